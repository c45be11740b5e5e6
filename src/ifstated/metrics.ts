/**
 * `--metrics 127.0.0.1:PORT`: the daemon's state in the Prometheus text
 * exposition format (version 0.0.4), on GET /metrics only.
 */
import { createServer, type Server } from 'node:http';
import { MoatError } from '../core/index.js';

export function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export function parseListen(spec: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:]+)\]|([^:]+)):(\d{1,5})$/.exec(spec);
  const port = Number(m?.[3]);
  if (m === null || port < 1 || port > 65535) {
    throw new MoatError('MOAT_IFSTATED_METRICS', `--metrics wants HOST:PORT, not '${spec}'`);
  }
  return { host: m[1] ?? m[2] ?? '127.0.0.1', port };
}

export async function serveMetrics(listen: { host: string; port: number }, render: () => string): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    let body: string;
    try {
      body = render();
    } catch (e) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(e)}\n`);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(body);
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  server.maxConnections = 16;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
