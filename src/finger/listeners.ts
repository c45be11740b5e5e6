import { createServer, isIP, type Server, type Socket } from 'node:net';
import { MoatError, errorMessage } from '../core/index.js';

export interface ListenAddress {
  host: string;
  port: number;
}

/** Parse `host:port`, `[v6]:port` or `:port` (all IPv4 addresses). */
export function parseListenAddress(text: string): ListenAddress {
  const bad = (why: string) => new MoatError('MOAT_FINGER_LISTEN', `bad listen address '${text}': ${why}`);
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  if (!m) throw bad('want host:port, or [v6]:port');
  const host = m[1] ?? (m[2] === '' || m[2] === undefined ? '0.0.0.0' : m[2]);
  const port = Number(m[3]);
  if (port > 65535) throw bad('port out of range');
  if (m[1] !== undefined && isIP(host) !== 6) throw bad('not an IPv6 address');
  if (m[1] === undefined && isIP(host) !== 4 && host !== 'localhost') throw bad('want an IP address');
  return { host, port };
}

/**
 * Sockets passed by the service manager (sd_listen_fds(3)): LISTEN_PID must
 * name us, LISTEN_FDS counts descriptors from 3 (SD_LISTEN_FDS_START).
 */
export function inheritedFds(env: Readonly<Record<string, string | undefined>>, pid = process.pid): number[] {
  if (env.LISTEN_PID === undefined || env.LISTEN_FDS === undefined) return [];
  if (env.LISTEN_PID !== String(pid)) return [];
  const n = Number(env.LISTEN_FDS);
  if (!Number.isInteger(n) || n < 1 || n > 64) return [];
  return Array.from({ length: n }, (_, i) => 3 + i);
}

export interface Bound {
  server: Server;
  label: string;
}

/** Bind every address (or adopt every inherited descriptor); all or nothing. */
export async function bindAll(addresses: ListenAddress[], fds: number[], onConnection: (s: Socket) => void): Promise<Bound[]> {
  const bound: Bound[] = [];
  const targets: { label: string; listen: (s: Server, cb: () => void) => void }[] =
    fds.length > 0
      ? fds.map((fd) => ({ label: `fd ${String(fd)}`, listen: (s, cb) => s.listen({ fd }, cb) }))
      : addresses.map((a) => ({
          label: a.host.includes(':') ? `[${a.host}]:${String(a.port)}` : `${a.host}:${String(a.port)}`,
          // ipv6Only, so that [::]:79 and 0.0.0.0:79 can both be bound, as the default asks.
          listen: (s, cb) => s.listen({ host: a.host, port: a.port, ipv6Only: a.host.includes(':'), backlog: 511 }, cb),
        }));
  try {
    for (const t of targets) {
      // allowHalfOpen: a client may shut down its side after the query and still wait for the answer.
      const server = createServer({ allowHalfOpen: true, pauseOnConnect: false, noDelay: true }, onConnection);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        t.listen(server, () => {
          server.removeListener('error', reject);
          resolve();
        });
      });
      const a = server.address();
      const label = typeof a === 'object' && a !== null ? (a.family === 'IPv6' ? `[${a.address}]:${String(a.port)}` : `${a.address}:${String(a.port)}`) : t.label;
      bound.push({ server, label });
    }
  } catch (e) {
    for (const b of bound) b.server.close();
    throw new MoatError('MOAT_FINGER_BIND', `cannot listen on ${targets[bound.length]?.label ?? '?'}: ${errorMessage(e)}`, { cause: e });
  }
  return bound;
}
