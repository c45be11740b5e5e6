// Prometheus text exposition (format 0.0.4) of the gateway's state, served on
// a local address at GET /metrics.
import { createServer, type Server } from 'node:http';

const RTT_BUCKETS_MS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000];

export class PortalMetrics {
  loginsAccepted = 0;
  loginsRejected = 0;
  loginsRateLimited = 0;
  radiusTimeouts = 0;
  radiusErrors = 0;
  acctRequests = 0;
  coaRequests = 0;
  sessionsEnded = new Map<number, number>();
  private readonly rtt = new Map<string, { buckets: number[]; sum: number; count: number }>();

  observeRtt(kind: 'auth' | 'acct', ms: number): void {
    let h = this.rtt.get(kind);
    if (h === undefined) {
      h = { buckets: RTT_BUCKETS_MS.map(() => 0), sum: 0, count: 0 };
      this.rtt.set(kind, h);
    }
    RTT_BUCKETS_MS.forEach((b, i) => {
      if (ms <= b) h.buckets[i] = (h.buckets[i] ?? 0) + 1;
    });
    h.sum += ms;
    h.count++;
  }

  ended(cause: number): void {
    this.sessionsEnded.set(cause, (this.sessionsEnded.get(cause) ?? 0) + 1);
  }

  render(state: { sessions: number; bytesUp: bigint; bytesDown: bigint; dnsmasqUp: boolean }): string {
    const out: string[] = [];
    const metric = (name: string, type: string, help: string, lines: string[]): void => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...lines);
    };
    metric('moat_portal_sessions', 'gauge', 'Clients online now.', [`moat_portal_sessions ${String(state.sessions)}`]);
    metric('moat_portal_logins_total', 'counter', 'Login attempts by result.', [
      `moat_portal_logins_total{result="accepted"} ${String(this.loginsAccepted)}`,
      `moat_portal_logins_total{result="rejected"} ${String(this.loginsRejected)}`,
      `moat_portal_logins_total{result="rate_limited"} ${String(this.loginsRateLimited)}`,
    ]);
    metric('moat_portal_sessions_ended_total', 'counter', 'Sessions ended, by RFC 2866 Acct-Terminate-Cause.', [...this.sessionsEnded].map(([c, n]) => `moat_portal_sessions_ended_total{cause="${String(c)}"} ${String(n)}`));
    metric('moat_portal_radius_timeouts_total', 'counter', 'RADIUS requests no server answered.', [`moat_portal_radius_timeouts_total ${String(this.radiusTimeouts)}`]);
    metric('moat_portal_radius_errors_total', 'counter', 'RADIUS requests that failed otherwise.', [`moat_portal_radius_errors_total ${String(this.radiusErrors)}`]);
    metric('moat_portal_coa_requests_total', 'counter', 'RFC 5176 requests handled.', [`moat_portal_coa_requests_total ${String(this.coaRequests)}`]);
    const rtt: string[] = [];
    for (const [kind, h] of this.rtt) {
      RTT_BUCKETS_MS.forEach((b, i) => rtt.push(`moat_portal_radius_rtt_seconds_bucket{type="${kind}",le="${String(b / 1000)}"} ${String(h.buckets[i] ?? 0)}`));
      rtt.push(`moat_portal_radius_rtt_seconds_bucket{type="${kind}",le="+Inf"} ${String(h.count)}`);
      rtt.push(`moat_portal_radius_rtt_seconds_sum{type="${kind}"} ${String(h.sum / 1000)}`);
      rtt.push(`moat_portal_radius_rtt_seconds_count{type="${kind}"} ${String(h.count)}`);
    }
    metric('moat_portal_radius_rtt_seconds', 'histogram', 'RADIUS round-trip time.', rtt);
    metric('moat_portal_bytes_total', 'counter', 'Bytes of the sessions online, from the firewall counters.', [
      `moat_portal_bytes_total{direction="up"} ${String(state.bytesUp)}`,
      `moat_portal_bytes_total{direction="down"} ${String(state.bytesDown)}`,
    ]);
    metric('moat_portal_dnsmasq_up', 'gauge', 'Whether dnsmasq is running.', [`moat_portal_dnsmasq_up ${state.dnsmasqUp ? '1' : '0'}`]);
    return `${out.join('\n')}\n`;
  }
}

export async function serveMetrics(host: string, port: number, render: () => string): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(render());
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  server.maxConnections = 16;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

/** `127.0.0.1:9120` or `[::1]:9120`. */
export function splitHostPort(s: string): { host: string; port: number } {
  const i = s.lastIndexOf(':');
  const host = s.slice(0, i).replace(/^\[|\]$/g, '');
  return { host, port: Number(s.slice(i + 1)) };
}
