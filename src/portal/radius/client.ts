// A RADIUS client for a NAS: Access-Request and Accounting-Request with a
// per-try timeout, retransmission of the very same datagram (same Identifier
// and Request Authenticator, RFC 5080 §2.2.1), failover to the next server,
// and replies verified before they are believed (RFC 2865 §3; RFC 2869 §5.14
// Message-Authenticator first in every request and required on replies by
// default against CVE-2024-3596, BlastRADIUS).
import type { RemoteInfo } from 'node:dgram';
import { MoatError } from '../../core/index.js';
import { radiusError, RADIUS_ERROR } from './errors.js';
import { CODE, codeName } from './dictionary.js';
import { decodePacket, type RadiusAttribute, type RadiusPacket } from './packet.js';
import { messageAuthenticatorPlaceholder, randomAuthenticator, signRequest, verifyResponse } from './authenticator.js';
import { SocketPool } from './socket-pool.js';
import { getText } from './attributes.js';
import { mapPolicy, type SessionPolicy } from './policy.js';
import { resolveServer, validateClientOptions, type RadiusClientOptions, type RadiusServer } from './client-options.js';
import {
  accessRequestAttributes, accountingRequestAttributes, type AcctRequest, type AuthRequest, type NasIdentity,
} from './request-attributes.js';

export type RequestKind = 'auth' | 'acct';

export type RadiusClientEvent =
  | { type: 'response'; server: string; kind: RequestKind; code: number; rttMs: number }
  | { type: 'retransmit'; server: string; kind: RequestKind }
  | { type: 'timeout'; server: string; kind: RequestKind }
  | { type: 'failover'; from: string; to: string; kind: RequestKind }
  | { type: 'invalid-response'; server: string; reason: string };

export interface RadiusClientStats {
  requests: number;
  responses: number;
  retransmits: number;
  /** Tries that went unanswered. */
  timeouts: number;
  /** Requests that no server answered. */
  failures: number;
  failovers: number;
  invalidResponses: number;
  outstanding: number;
  rttSumMs: number;
  rttCount: number;
}

export interface AuthResult {
  accepted: boolean;
  replyMessage?: string;
  policy: SessionPolicy;
  /** From the transmission that was answered to its answer. */
  rttMs: number;
  server: string;
  attributes: RadiusAttribute[];
}

interface Pending {
  requestAuthenticator: Buffer;
  secret: Buffer;
  kind: RequestKind;
  server: string;
  sentAt: number;
  onReply: (p: RadiusPacket) => void;
}

interface ServerState {
  config: RadiusServer;
  deadUntil: number;
}

/** "host:port" (IPv6 in brackets) of a server for one kind of request: how events and results name it. */
function labelOf(s: RadiusServer, kind: RequestKind): string {
  const port = kind === 'auth' ? (s.authPort ?? 1812) : (s.acctPort ?? 1813);
  return s.host.includes(':') ? `[${s.host}]:${String(port)}` : `${s.host}:${String(port)}`;
}

const ACCESS_REPLIES: ReadonlySet<number> = new Set([CODE.accessAccept, CODE.accessReject, CODE.accessChallenge]);

export class RadiusClient {
  private readonly opts: Required<Pick<RadiusClientOptions, 'timeoutMs' | 'retries' | 'requireMessageAuthenticator' | 'deadTimeMs' | 'maxOutstanding' | 'maxSockets'>>;
  private readonly nas: NasIdentity;
  private readonly servers: ServerState[];
  private readonly pools = new Map<'udp4' | 'udp6', SocketPool>();
  private readonly pending = new Map<string, Pending>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly counters: RadiusClientStats = {
    requests: 0, responses: 0, retransmits: 0, timeouts: 0, failures: 0, failovers: 0, invalidResponses: 0, outstanding: 0, rttSumMs: 0, rttCount: 0,
  };
  private closed = false;

  constructor(private readonly options: RadiusClientOptions) {
    validateClientOptions(options);
    this.opts = {
      timeoutMs: options.timeoutMs ?? 3000,
      retries: options.retries ?? 2,
      requireMessageAuthenticator: options.requireMessageAuthenticator ?? true,
      deadTimeMs: options.deadTimeMs ?? 30_000,
      maxOutstanding: options.maxOutstanding ?? 1024,
      maxSockets: options.maxSockets ?? 8,
    };
    this.nas = { nasIdentifier: options.nasIdentifier };
    if (options.nasIpAddress !== undefined) this.nas.nasIpAddress = options.nasIpAddress;
    if (options.nasIpv6Address !== undefined) this.nas.nasIpv6Address = options.nasIpv6Address;
    if (options.calledStationId !== undefined) this.nas.calledStationId = options.calledStationId;
    if (options.locationId !== undefined) this.nas.locationId = options.locationId;
    if (options.locationName !== undefined) this.nas.locationName = options.locationName;
    this.servers = options.servers.map((s) => ({ config: s, deadUntil: 0 }));
  }

  /** Counters since construction; they only grow (outstanding excepted). */
  stats(): RadiusClientStats {
    return { ...this.counters, outstanding: this.pending.size };
  }

  /** Access-Request with PAP, CHAP or MAC credentials; Access-Challenge counts as a reject (no EAP here). */
  async authenticate(req: AuthRequest): Promise<AuthResult> {
    const { packet, rttMs, server } = await this.send('auth', CODE.accessRequest, (secret, auth) => accessRequestAttributes(req, this.nas, secret, auth));
    const accepted = packet.code === CODE.accessAccept;
    const result: AuthResult = { accepted, policy: accepted ? mapPolicy(packet.attributes) : {}, rttMs, server, attributes: packet.attributes };
    const reply = getText(packet.attributes, 'Reply-Message');
    if (reply !== undefined) result.replyMessage = reply;
    return result;
  }

  /** Accounting-Request (Start, Interim-Update, Stop, Accounting-On/Off), resolved on its Accounting-Response. */
  async accounting(req: AcctRequest): Promise<{ rttMs: number; server: string }> {
    const attrs = accountingRequestAttributes(req, this.nas);
    const { rttMs, server } = await this.send('acct', CODE.accountingRequest, () => attrs);
    return { rttMs, server };
  }

  /** Send a request of `code` to the servers in turn; `build` makes the attributes for one server's secret and authenticator. */
  async send(
    kind: RequestKind, code: number, build: (secret: Buffer, authenticator: Buffer) => RadiusAttribute[],
  ): Promise<{ packet: RadiusPacket; rttMs: number; server: string }> {
    if (this.closed) throw radiusError(RADIUS_ERROR.closed, 'RADIUS client is closed');
    this.counters.requests++;
    const now = Date.now();
    // The first live server, in configured order; when all are dead, all of them anyway.
    const live = this.servers.filter((s) => s.deadUntil <= now);
    const order = live.length > 0 ? [...live, ...this.servers.filter((s) => s.deadUntil > now)] : this.servers;
    let previous: ServerState | undefined;
    for (const server of order) {
      if (previous !== undefined) {
        this.counters.failovers++;
        this.emit({ type: 'failover', from: labelOf(previous.config, kind), to: labelOf(server.config, kind), kind });
      }
      let answer: Awaited<ReturnType<typeof this.exchange>>;
      try {
        answer = await this.exchange(server, kind, code, build);
      } catch (e) {
        // A server whose name does not resolve is a server that does not answer: go on to the next.
        if (!(e instanceof MoatError && e.code === RADIUS_ERROR.config)) throw e;
        this.emit({ type: 'invalid-response', server: labelOf(server.config, kind), reason: e.message });
        answer = undefined;
      }
      if (answer !== undefined) {
        server.deadUntil = 0;
        return answer;
      }
      server.deadUntil = Date.now() + this.opts.deadTimeMs;
      previous = server;
    }
    this.counters.failures++;
    throw radiusError(RADIUS_ERROR.timeout, `no RADIUS server answered the ${codeName(code)} (${this.servers.map((s) => labelOf(s.config, kind)).join(', ')})`);
  }

  /** One server: send, retransmit the same datagram on each timeout, undefined when all tries went unanswered. */
  private async exchange(
    server: ServerState, kind: RequestKind, code: number, build: (secret: Buffer, authenticator: Buffer) => RadiusAttribute[],
  ): Promise<{ packet: RadiusPacket; rttMs: number; server: string } | undefined> {
    const address = await resolveServer(server.config);
    const port = kind === 'auth' ? (server.config.authPort ?? 1812) : (server.config.acctPort ?? 1813);
    const family = address.includes(':') ? 'udp6' : 'udp4';
    const label = labelOf(server.config, kind);
    const pool = this.pool(family);
    const destKey = `${address}|${String(port)}`;
    const lease = await pool.acquire(destKey);
    const { identifier } = lease;
    const secret = Buffer.from(server.config.secret, 'utf8');
    const authenticator = code === CODE.accessRequest ? randomAuthenticator() : Buffer.alloc(16);
    const key = `${String(lease.slot)}|${destKey}|${String(identifier)}`;
    try {
      const socket = await pool.socketOf(lease);
      // BlastRADIUS: Message-Authenticator first in every request.
      const attributes = [messageAuthenticatorPlaceholder(), ...build(secret, authenticator)];
      const wire = signRequest({ code, identifier, authenticator, attributes }, secret);
      const requestAuthenticator = Buffer.from(wire.subarray(4, 20));
      for (let attempt = 0; attempt <= this.opts.retries; attempt++) {
        if (this.closed) throw radiusError(RADIUS_ERROR.closed, 'RADIUS client is closed');
        if (attempt > 0) {
          this.counters.retransmits++;
          this.emit({ type: 'retransmit', server: label, kind });
        }
        const reply = await new Promise<{ packet: RadiusPacket; rttMs: number } | undefined>((resolve, reject) => {
          const sentAt = performance.now();
          const timer = setTimeout(() => {
            this.timers.delete(timer);
            this.pending.delete(key);
            resolve(undefined);
          }, this.opts.timeoutMs);
          this.timers.add(timer);
          this.pending.set(key, {
            requestAuthenticator, secret, kind, server: label, sentAt,
            onReply: (packet) => {
              clearTimeout(timer);
              this.timers.delete(timer);
              this.pending.delete(key);
              resolve({ packet, rttMs: performance.now() - sentAt });
            },
          });
          this.closeHooks.set(key, (e) => {
            clearTimeout(timer);
            this.timers.delete(timer);
            reject(e);
          });
          socket.send(wire, port, address, (err) => {
            // A send error (no route, say) counts as an unanswered try.
            if (err !== null) this.emit({ type: 'invalid-response', server: label, reason: `send: ${err.message}` });
          });
        });
        this.closeHooks.delete(key);
        if (reply !== undefined) {
          this.counters.responses++;
          this.counters.rttSumMs += reply.rttMs;
          this.counters.rttCount++;
          this.emit({ type: 'response', server: label, kind, code: reply.packet.code, rttMs: reply.rttMs });
          return { ...reply, server: label };
        }
        this.counters.timeouts++;
        this.emit({ type: 'timeout', server: label, kind });
      }
      return undefined;
    } finally {
      this.pending.delete(key);
      this.closeHooks.delete(key);
      lease.release();
    }
  }

  private readonly closeHooks = new Map<string, (e: Error) => void>();

  private pool(family: 'udp4' | 'udp6'): SocketPool {
    let p = this.pools.get(family);
    if (p === undefined) {
      p = new SocketPool(
        family,
        family === 'udp4' ? this.options.bindAddress : this.options.bindAddress6,
        this.opts.maxSockets,
        this.opts.maxOutstanding,
        (slot, msg, rinfo) => {
          this.onMessage(slot, msg, rinfo);
        },
        (err) => {
          this.emit({ type: 'invalid-response', server: '', reason: `socket: ${err.message}` });
        },
      );
      this.pools.set(family, p);
    }
    return p;
  }

  private onMessage(slot: number, msg: Buffer, rinfo: RemoteInfo): void {
    const invalid = (reason: string, server = `${rinfo.address}:${String(rinfo.port)}`): void => {
      this.counters.invalidResponses++;
      this.emit({ type: 'invalid-response', server, reason });
    };
    let packet: RadiusPacket;
    try {
      packet = decodePacket(msg);
    } catch (e) {
      invalid(e instanceof Error ? e.message : String(e));
      return;
    }
    const p = this.pending.get(`${String(slot)}|${rinfo.address}|${String(rinfo.port)}|${String(packet.identifier)}`);
    if (p === undefined) {
      invalid(`no request outstanding with identifier ${String(packet.identifier)}`);
      return;
    }
    const expected = p.kind === 'auth' ? ACCESS_REPLIES.has(packet.code) : packet.code === CODE.accountingResponse;
    if (!expected) {
      invalid(`unexpected ${codeName(packet.code)}`, p.server);
      return;
    }
    const v = verifyResponse(msg, p.requestAuthenticator, p.secret);
    if (!v.authenticator) {
      invalid('bad Response Authenticator', p.server);
      return;
    }
    if (v.messageAuthenticator === 'invalid') {
      invalid('bad Message-Authenticator', p.server);
      return;
    }
    if (v.messageAuthenticator === 'absent' && p.kind === 'auth' && this.opts.requireMessageAuthenticator) {
      invalid('reply without Message-Authenticator', p.server);
      return;
    }
    p.onReply(packet);
  }

  private emit(e: RadiusClientEvent): void {
    try {
      this.options.onEvent?.(e);
    } catch {
      // A metrics hook that throws must not break RADIUS.
    }
  }

  /** Close the sockets; pending requests reject with MOAT_PORTAL_RADIUS_CLOSED. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    const e = radiusError(RADIUS_ERROR.closed, 'RADIUS client closed');
    for (const hook of [...this.closeHooks.values()]) hook(e);
    this.closeHooks.clear();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.pending.clear();
    const closing = [...this.pools.values()].map((p) => p.close());
    this.pools.clear();
    return Promise.all(closing).then(() => undefined);
  }
}
