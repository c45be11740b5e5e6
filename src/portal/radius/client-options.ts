// The RADIUS client's options, checked once, and server address resolution.
import { radiusError, RADIUS_ERROR } from './errors.js';
import { formatIpv6, parseIpv4, parseIpv6 } from './ip-address.js';
import type { RadiusClientEvent } from './client.js';

export interface RadiusServer {
  /** An IPv4 or IPv6 address, or a host name (resolved once, on first use). */
  host: string;
  authPort?: number;
  acctPort?: number;
  secret: string;
}

export interface RadiusClientOptions {
  /** First is the primary; the others are tried in order when it does not answer. */
  servers: RadiusServer[];
  /** Per try, milliseconds (default 3000). */
  timeoutMs?: number;
  /** Retransmissions per server after the first try (default 2). */
  retries?: number;
  nasIdentifier: string;
  nasIpAddress?: string;
  nasIpv6Address?: string;
  calledStationId?: string;
  /** Drop Access replies without a valid Message-Authenticator (default true; RFC 2869 §5.14, BlastRADIUS). */
  requireMessageAuthenticator?: boolean;
  /** Local addresses for the client sockets. */
  bindAddress?: string;
  bindAddress6?: string;
  /** How long a server that did not answer is tried last (default 30 s). */
  deadTimeMs?: number;
  /** Requests that may wait for an identifier when maxSockets × 256 are outstanding to one server (default 1024). */
  maxOutstanding?: number;
  /** Sockets (source ports) per address family, 256 Identifiers per server each (default 8). */
  maxSockets?: number;
  /** WISPr-Location-ID / -Name sent in every request. */
  locationId?: string;
  locationName?: string;
  onEvent?: (e: RadiusClientEvent) => void;
}

function bad(message: string): never {
  throw radiusError(RADIUS_ERROR.config, message);
}

const port = (p: number | undefined, what: string): void => {
  if (p !== undefined && !(Number.isInteger(p) && p >= 1 && p <= 65535)) bad(`${what} ${String(p)} is not a port`);
};

export function validateClientOptions(o: RadiusClientOptions): void {
  if (o.servers.length === 0) bad('no RADIUS server configured');
  for (const s of o.servers) {
    if (s.host === '') bad('a RADIUS server has no host');
    if (s.secret === '') bad(`RADIUS server ${s.host} has an empty secret`);
    port(s.authPort, `RADIUS server ${s.host} auth port`);
    port(s.acctPort, `RADIUS server ${s.host} accounting port`);
  }
  if (o.nasIdentifier === '' || Buffer.byteLength(o.nasIdentifier) > 253) bad('NAS-Identifier must be 1..253 octets');
  if (o.nasIpAddress !== undefined && parseIpv4(o.nasIpAddress) === undefined) bad(`NAS-IP-Address ${o.nasIpAddress} is not an IPv4 address`);
  if (o.nasIpv6Address !== undefined && parseIpv6(o.nasIpv6Address) === undefined) bad(`NAS-IPv6-Address ${o.nasIpv6Address} is not an IPv6 address`);
  const positive = (n: number | undefined, what: string, min: number, max: number): void => {
    if (n !== undefined && !(Number.isInteger(n) && n >= min && n <= max)) bad(`${what} must be an integer in ${String(min)}..${String(max)}`);
  };
  positive(o.timeoutMs, 'timeoutMs', 1, 600_000);
  positive(o.retries, 'retries', 0, 20);
  positive(o.deadTimeMs, 'deadTimeMs', 0, 86_400_000);
  positive(o.maxOutstanding, 'maxOutstanding', 0, 1_000_000);
  positive(o.maxSockets, 'maxSockets', 1, 64);
}

const resolved = new WeakMap<RadiusServer, Promise<string>>();

/** The server's address: the literal, or its host name looked up once. */
export function resolveServer(s: RadiusServer): Promise<string> {
  if (parseIpv4(s.host) !== undefined) return Promise.resolve(s.host);
  // In the form the kernel reports a reply's source in, so replies match.
  const v6 = parseIpv6(s.host);
  if (v6 !== undefined) return Promise.resolve(formatIpv6(v6));
  let p = resolved.get(s);
  if (p === undefined) {
    p = import('node:dns').then((dns) => dns.promises.lookup(s.host)).then(
      (r) => r.address,
      (e: unknown) => {
        resolved.delete(s);
        throw radiusError(RADIUS_ERROR.config, `cannot resolve RADIUS server ${s.host}`, e);
      },
    );
    resolved.set(s, p);
  }
  return p;
}
