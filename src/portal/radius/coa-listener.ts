// RFC 5176 Dynamic Authorization server: CoA-Request and Disconnect-Request
// from the operator's RADIUS side. Requests from unknown peers, with a bad
// Request Authenticator or a bad Message-Authenticator get no answer at all
// (RFC 5176 §3.4 silently discard); the others get an ACK or a NAK with an
// Error-Cause (§3.5). The session logic is the caller's handler.
import type { Socket, RemoteInfo } from 'node:dgram';
import { lazyDgram } from '../../core/index.js';
import { radiusError, RADIUS_ERROR, type RadiusErrorCode } from './errors.js';
import { CODE, ERROR_CAUSE, PROXY_STATE, codeName } from './dictionary.js';
import { decodePacket, type RadiusAttribute, type RadiusPacket } from './packet.js';
import { signResponse, verifyRequest } from './authenticator.js';
import { attr, getText } from './attributes.js';
import { hasSessionIdentification, mapPolicy, unsupportedAttributes, type SessionPolicy } from './policy.js';
import { formatIpv6, parseIpv4, parseIpv6 } from './ip-address.js';
import { isErrnoException, MoatError } from '../../core/index.js';

export interface DynamicRequest {
  kind: 'disconnect' | 'coa';
  acctSessionId?: string;
  userName?: string;
  /** As sent (normally AA-BB-CC-DD-EE-FF). */
  callingStationId?: string;
  framedIpAddress?: string;
  framedIpv6Address?: string;
  nasIdentifier?: string;
  /** The policy attributes of a CoA-Request (empty for a Disconnect-Request). */
  policy: SessionPolicy;
  /** "address:port" of the sender. */
  peer: string;
  attributes: RadiusAttribute[];
}

export type DynamicAnswer = { ack: true } | { ack: false; errorCause: number };

export interface CoaClient {
  /** The peer's IP address (the RADIUS server or proxy that sends CoA). */
  address: string;
  secret: string;
  /** Drop requests without a valid Message-Authenticator from this peer (default false: radclient does not add one). */
  requireMessageAuthenticator?: boolean;
}

export type CoaEvent =
  | { type: 'drop'; peer: string; code: RadiusErrorCode; reason: string }
  | { type: 'answer'; peer: string; kind: 'disconnect' | 'coa'; ack: boolean; errorCause?: number }
  | { type: 'duplicate'; peer: string };

export interface CoaListenerOptions {
  host?: string;
  /** Default 3799 (RFC 5176 §3.1); 0 picks a free port. */
  port?: number;
  clients: CoaClient[];
  /** When set, a request naming another NAS-Identifier gets NAK 403 (RFC 5176 §3.5). */
  nasIdentifier?: string;
  handlerTimeoutMs?: number;
  maxInFlight?: number;
  /**
   * Seconds an Event-Timestamp may differ from our clock (default 300, RFC 5176's
   * replay protection); a request outside it is dropped. 0 turns the check off.
   * Requests without Event-Timestamp are not affected.
   */
  eventTimestampWindowS?: number;
  onEvent?: (e: CoaEvent) => void;
}

export interface CoaListenerStats {
  received: number;
  dropped: number;
  acks: number;
  naks: number;
  duplicates: number;
}

export interface CoaListener {
  port: number;
  address: string;
  stats(): CoaListenerStats;
  close(): Promise<void>;
}

export type CoaHandler = (req: DynamicRequest) => Promise<DynamicAnswer>;

/** RFC 5080 §2.2.2: answer a retransmission with the same reply; remembered this long. */
const DUPLICATE_MS = 10_000;
const MAX_REMEMBERED = 4096;

/** One spelling per address: IPv4-mapped IPv6 as IPv4, IPv6 in RFC 5952 form (as the kernel reports a sender). */
function normalizeAddress(a: string): string {
  if (a.startsWith('::ffff:') && parseIpv4(a.slice(7)) !== undefined) return a.slice(7);
  const v6 = parseIpv6(a);
  return v6 === undefined ? a : formatIpv6(v6);
}

/** Start listening. Rejects with MOAT_PORTAL_RADIUS_CONFIG or MOAT_PORTAL_RADIUS_BIND. */
export async function startCoaListener(opts: CoaListenerOptions, handler: CoaHandler): Promise<CoaListener> {
  const host = opts.host ?? '0.0.0.0';
  const v6 = parseIpv6(host) !== undefined;
  if (!v6 && parseIpv4(host) === undefined) throw radiusError(RADIUS_ERROR.config, `CoA listen address ${host} is not an IP address`);
  const clients = new Map<string, CoaClient>();
  for (const c of opts.clients) {
    if (parseIpv4(c.address) === undefined && parseIpv6(c.address) === undefined) throw radiusError(RADIUS_ERROR.config, `CoA client ${c.address} is not an IP address`);
    if (c.secret === '') throw radiusError(RADIUS_ERROR.config, `CoA client ${c.address} has an empty secret`);
    clients.set(normalizeAddress(c.address), c);
  }
  const handlerTimeoutMs = opts.handlerTimeoutMs ?? 5000;
  const maxInFlight = opts.maxInFlight ?? 256;
  const windowS = opts.eventTimestampWindowS ?? 300;
  const stats: CoaListenerStats = { received: 0, dropped: 0, acks: 0, naks: 0, duplicates: 0 };
  // Replies already sent (or being worked out: undefined), by peer + identifier + authenticator.
  const recent = new Map<string, { at: number; reply: Buffer | undefined }>();
  let inFlight = 0;
  let closed = false;

  const emit = (e: CoaEvent): void => {
    try {
      opts.onEvent?.(e);
    } catch {
      // A hook that throws must not break the listener.
    }
  };
  const drop = (peer: string, code: RadiusErrorCode, reason: string): void => {
    stats.dropped++;
    emit({ type: 'drop', peer, code, reason });
  };

  const socket: Socket = lazyDgram().createSocket({ type: v6 ? 'udp6' : 'udp4' });
  socket.on('error', (err) => { drop('', RADIUS_ERROR.bind, `socket: ${err.message}`); });

  function reply(request: RadiusPacket, client: CoaClient, answer: DynamicAnswer, kind: 'disconnect' | 'coa'): Buffer {
    const code = kind === 'disconnect' ? (answer.ack ? CODE.disconnectAck : CODE.disconnectNak) : answer.ack ? CODE.coaAck : CODE.coaNak;
    const attributes: RadiusAttribute[] = [{ type: 80, value: Buffer.alloc(16) }];
    if (!answer.ack) attributes.push(attr('Error-Cause', answer.errorCause));
    // RFC 5176 §3: Proxy-State attributes are copied, in order, into the reply.
    attributes.push(...request.attributes.filter((a) => a.vendor === undefined && a.type === PROXY_STATE));
    return signResponse({ code, identifier: request.identifier, authenticator: request.authenticator, attributes }, request.authenticator, Buffer.from(client.secret, 'utf8'));
  }

  async function decide(request: RadiusPacket, kind: 'disconnect' | 'coa', peer: string): Promise<DynamicAnswer> {
    const attrs = request.attributes;
    const nak = (cause: number): DynamicAnswer => ({ ack: false, errorCause: cause });
    if (unsupportedAttributes(attrs).length > 0) return nak(ERROR_CAUSE['Unsupported-Attribute']);
    let req: DynamicRequest;
    try {
      const nasIdentifier = getText(attrs, 'NAS-Identifier');
      if (opts.nasIdentifier !== undefined && nasIdentifier !== undefined && nasIdentifier !== opts.nasIdentifier) {
        return nak(ERROR_CAUSE['NAS-Identification-Mismatch']);
      }
      if (!hasSessionIdentification(attrs)) return nak(ERROR_CAUSE['Missing-Attribute']);
      const serviceType = attrs.find((a) => a.type === 6 && a.vendor === undefined);
      // Service-Type Authorize-Only (RFC 5176 §3.2) would need a new Access-Request round; not offered.
      if (serviceType !== undefined) return nak(ERROR_CAUSE['Unsupported-Service']);
      req = { kind, policy: kind === 'coa' ? mapPolicy(attrs) : {}, peer, attributes: attrs };
      const fields = [
        ['acctSessionId', 'Acct-Session-Id'], ['userName', 'User-Name'], ['callingStationId', 'Calling-Station-Id'],
        ['framedIpAddress', 'Framed-IP-Address'], ['framedIpv6Address', 'Framed-IPv6-Address'],
      ] as const;
      for (const [key, name] of fields) {
        const value = getText(attrs, name);
        if (value !== undefined) req[key] = value;
      }
      if (nasIdentifier !== undefined) req.nasIdentifier = nasIdentifier;
    } catch (e) {
      if (e instanceof MoatError && e.code === RADIUS_ERROR.badAttribute) return nak(ERROR_CAUSE['Invalid-Attribute-Value']);
      throw e;
    }
    if (inFlight >= maxInFlight) return nak(ERROR_CAUSE['Resources-Unavailable']);
    inFlight++;
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<DynamicAnswer>((resolve) => {
        timer = setTimeout(() => { resolve(nak(ERROR_CAUSE['Resources-Unavailable'])); }, handlerTimeoutMs);
      });
      const answer = await Promise.race([handler(req), timeout]);
      if (answer.ack) return answer;
      const cause = Number.isInteger(answer.errorCause) && answer.errorCause > 0 && answer.errorCause <= 0xffffffff ? answer.errorCause : ERROR_CAUSE['Resources-Unavailable'];
      return nak(cause);
    } catch {
      return nak(ERROR_CAUSE['Resources-Unavailable']);
    } finally {
      clearTimeout(timer);
      inFlight--;
    }
  }

  function onMessage(msg: Buffer, rinfo: RemoteInfo): void {
    stats.received++;
    const address = normalizeAddress(rinfo.address);
    const peer = `${address}:${String(rinfo.port)}`;
    const client = clients.get(address);
    if (client === undefined) { drop(peer, RADIUS_ERROR.unknownPeer, 'not a configured CoA client'); return; }
    let request: RadiusPacket;
    try {
      request = decodePacket(msg);
    } catch (e) {
      drop(peer, RADIUS_ERROR.malformed, e instanceof Error ? e.message : String(e)); return;
    }
    const kind = request.code === CODE.disconnectRequest ? 'disconnect' : request.code === CODE.coaRequest ? 'coa' : undefined;
    if (kind === undefined) { drop(peer, RADIUS_ERROR.unexpectedCode, `${codeName(request.code)} on the CoA port`); return; }
    const v = verifyRequest(msg, Buffer.from(client.secret, 'utf8'));
    if (!v.authenticator) { drop(peer, RADIUS_ERROR.badAuthenticator, 'bad Request Authenticator'); return; }
    if (v.messageAuthenticator === 'invalid') { drop(peer, RADIUS_ERROR.badAuthenticator, 'bad Message-Authenticator'); return; }
    if (v.messageAuthenticator === 'absent' && client.requireMessageAuthenticator === true) {
      drop(peer, RADIUS_ERROR.missingMessageAuthenticator, 'request without Message-Authenticator'); return;
    }
    const now = Date.now();
    const stamp = request.attributes.find((a) => a.type === 55 && a.vendor === undefined);
    if (stamp !== undefined && windowS > 0) {
      const skew = stamp.value.length === 4 ? Math.abs(now / 1000 - stamp.value.readUInt32BE(0)) : Infinity;
      if (skew > windowS) {
        drop(peer, RADIUS_ERROR.replay, `Event-Timestamp ${String(Math.round(skew))} s away from our clock`);
        return;
      }
    }
    const dupKey = `${peer}|${String(request.identifier)}|${request.authenticator.toString('hex')}`;
    const seen = recent.get(dupKey);
    if (seen !== undefined && now - seen.at < DUPLICATE_MS) {
      stats.duplicates++;
      emit({ type: 'duplicate', peer });
      if (seen.reply !== undefined) socket.send(seen.reply, rinfo.port, rinfo.address);
      return;
    }
    if (recent.size >= MAX_REMEMBERED) {
      for (const [k, r] of recent) if (now - r.at >= DUPLICATE_MS || recent.size >= MAX_REMEMBERED) recent.delete(k);
    }
    const entry: { at: number; reply: Buffer | undefined } = { at: now, reply: undefined };
    recent.set(dupKey, entry);
    decide(request, kind, peer).then(
      (answer) => {
        if (closed) return;
        const wire = reply(request, client, answer, kind);
        entry.reply = wire;
        if (answer.ack) stats.acks++;
        else stats.naks++;
        emit(answer.ack ? { type: 'answer', peer, kind, ack: true } : { type: 'answer', peer, kind, ack: false, errorCause: answer.errorCause });
        socket.send(wire, rinfo.port, rinfo.address);
      },
      (e: unknown) => { drop(peer, RADIUS_ERROR.malformed, e instanceof Error ? e.message : String(e)); },
    );
  }

  socket.on('message', (msg, rinfo) => {
    try {
      onMessage(msg, rinfo);
    } catch (e) {
      // Never let one datagram take the listener down.
      drop(`${rinfo.address}:${String(rinfo.port)}`, RADIUS_ERROR.malformed, e instanceof Error ? e.message : String(e));
    }
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => {
      const why = isErrnoException(err) ? `${err.code ?? ''} ${err.message}` : err.message;
      reject(radiusError(RADIUS_ERROR.bind, `cannot listen for CoA on ${host}:${String(opts.port ?? 3799)}: ${why}`, err));
    };
    socket.once('error', onError);
    socket.bind({ address: host, port: opts.port ?? 3799 }, () => {
      socket.off('error', onError);
      resolve();
    });
  });
  const bound = socket.address();
  return {
    port: bound.port,
    address: bound.address,
    stats: () => ({ ...stats }),
    close: () => {
      if (closed) return Promise.resolve();
      closed = true;
      return new Promise<void>((resolve) => socket.close(() => { resolve(); }));
    },
  };
}
