// A client's session: who logged in, from which interface, MAC and IP, what
// RADIUS allowed, and the counters accounting reports. Pure data and pure
// decisions; the gateway does the I/O.
import { randomBytes } from 'node:crypto';
import { TERMINATE_CAUSE, type ClientKey, type Counters, type SessionPolicy } from './ports.js';

export type SessionKind = 'radius' | 'mac' | 'trusted' | 'admin';

export interface Session {
  /** RFC 2866 §5.5 Acct-Session-Id: unique per gateway, kept across restarts. */
  readonly id: string;
  /** Interface, MAC and IPv4 never change; IPv6 addresses the client starts using join (Gateway.adoptAddresses). */
  client: ClientKey;
  readonly userName: string;
  readonly kind: SessionKind;
  /** ms since the epoch. */
  readonly startedAt: number;
  policy: SessionPolicy;
  /** Totals reported to RADIUS: they only grow. */
  totals: Counters;
  /** What the kernel said last time; a smaller reading means the element was re-created. */
  lastKernel: Counters;
  /** The kernel has stopped forwarding at the volume quota. */
  quotaExhausted?: boolean;
  lastActivity: number;
  lastInterim: number;
  /** Accounting-Start went out (or was handed to the client); never sent twice. */
  startSent: boolean;
}

export const ZERO: Counters = { bytesUp: 0n, bytesDown: 0n, packetsUp: 0n, packetsDown: 0n };

let sequence = 0;
/**
 * Eight hex digits of time and eight of sequence and randomness, like
 * CoovaChilli's, so ids differ across restarts and across gateways.
 */
export function newSessionId(now = Date.now()): string {
  sequence = (sequence + 1) & 0xffff;
  const t = Math.floor(now / 1000).toString(16).padStart(8, '0').slice(-8);
  return `${t}${sequence.toString(16).padStart(4, '0')}${randomBytes(2).toString('hex')}`;
}

export function newSession(fields: { client: ClientKey; userName: string; kind: SessionKind; policy: SessionPolicy; now: number; counters?: Counters }): Session {
  const base = fields.counters ?? ZERO;
  return {
    id: newSessionId(fields.now),
    client: fields.client,
    userName: fields.userName,
    kind: fields.kind,
    startedAt: fields.now,
    policy: fields.policy,
    totals: ZERO,
    lastKernel: base,
    lastActivity: fields.now,
    lastInterim: fields.now,
    startSent: false,
  };
}

function add(a: Counters, b: Counters): Counters {
  return { bytesUp: a.bytesUp + b.bytesUp, bytesDown: a.bytesDown + b.bytesDown, packetsUp: a.packetsUp + b.packetsUp, packetsDown: a.packetsDown + b.packetsDown };
}

function sub(a: Counters, b: Counters): Counters {
  return { bytesUp: a.bytesUp - b.bytesUp, bytesDown: a.bytesDown - b.bytesDown, packetsUp: a.packetsUp - b.packetsUp, packetsDown: a.packetsDown - b.packetsDown };
}

/**
 * Fold a kernel reading into the session. Totals only grow: a reading below
 * the last one means the element was re-created (firewall reload), so the
 * new reading counts from zero. Activity is traffic from the client.
 */
export function observe(s: Session, kernel: Counters, now: number): void {
  const shrank = kernel.bytesUp < s.lastKernel.bytesUp || kernel.bytesDown < s.lastKernel.bytesDown;
  const delta = shrank ? kernel : sub(kernel, s.lastKernel);
  if (delta.packetsUp > 0n || delta.bytesUp > 0n) s.lastActivity = now;
  s.totals = add(s.totals, delta);
  s.lastKernel = { bytesUp: kernel.bytesUp, bytesDown: kernel.bytesDown, packetsUp: kernel.packetsUp, packetsDown: kernel.packetsDown };
  if (kernel.quotaExhausted === true) s.quotaExhausted = true;
}

/** Seconds online (RFC 2866 §5.7 Acct-Session-Time). */
export function sessionTime(s: Session, now: number): number {
  return Math.max(0, Math.floor((now - s.startedAt) / 1000));
}

export interface Defaults {
  sessionTimeout: number;
  idleTimeout: number;
  interimInterval: number;
}

/** Why this session must end now, as an Acct-Terminate-Cause, or undefined. */
export function endCause(s: Session, now: number, d: Defaults): number | undefined {
  const p = s.policy;
  const st = p.sessionTimeout ?? d.sessionTimeout;
  if (st > 0 && now - s.startedAt >= st * 1000) return TERMINATE_CAUSE.sessionTimeout;
  // WISPr-Session-Terminate-Time: a wall-clock end, reported as a session timeout as CoovaChilli does.
  if (p.terminateTime !== undefined && now >= p.terminateTime.getTime()) return TERMINATE_CAUSE.sessionTimeout;
  const idle = p.idleTimeout ?? d.idleTimeout;
  if (idle > 0 && now - s.lastActivity >= idle * 1000) return TERMINATE_CAUSE.idleTimeout;
  const t = s.totals;
  // Octets in RADIUS are the NAS's view: input is what the client sent.
  // The kernel's quota stops forwarding at the limit, and the packet that
  // would cross it is dropped uncounted, so the counters stop a little
  // short: within a margin of the limit the session is over.
  const reached = (used: bigint, limit: bigint | undefined): boolean => limit !== undefined && used >= limit - quotaMargin(limit);
  if (s.quotaExhausted === true || reached(t.bytesUp, p.maxInputOctets) || reached(t.bytesDown, p.maxOutputOctets) || reached(t.bytesUp + t.bytesDown, p.maxTotalOctets)) {
    return TERMINATE_CAUSE.nasRequest;
  }
  return undefined;
}

/** 1% of a quota, at most 64 KiB: a few full-size packets. */
export function quotaMargin(limit: bigint): bigint {
  const pct = limit / 100n;
  return pct < 65536n ? pct : 65536n;
}

/** Is an Interim-Update due (RFC 2869 §5.16)? */
export function interimDue(s: Session, now: number, d: Defaults): boolean {
  const every = s.policy.interimInterval ?? d.interimInterval;
  return every > 0 && now - s.lastInterim >= every * 1000;
}

/** Seconds left before Session-Timeout or the terminate time, for RFC 8908 `seconds-remaining`. */
export function secondsRemaining(s: Session, now: number, d: Defaults): number | undefined {
  const ends: number[] = [];
  const st = s.policy.sessionTimeout ?? d.sessionTimeout;
  if (st > 0) ends.push(s.startedAt + st * 1000);
  if (s.policy.terminateTime !== undefined) ends.push(s.policy.terminateTime.getTime());
  if (ends.length === 0) return undefined;
  return Math.max(0, Math.floor((Math.min(...ends) - now) / 1000));
}

/** Bytes left under the smallest quota, for RFC 8908 `bytes-remaining`. */
export function bytesRemaining(s: Session): bigint | undefined {
  const p = s.policy;
  const left: bigint[] = [];
  if (p.maxTotalOctets !== undefined) left.push(p.maxTotalOctets - s.totals.bytesUp - s.totals.bytesDown);
  if (p.maxInputOctets !== undefined) left.push(p.maxInputOctets - s.totals.bytesUp);
  if (p.maxOutputOctets !== undefined) left.push(p.maxOutputOctets - s.totals.bytesDown);
  if (left.length === 0) return undefined;
  const min = left.reduce((a, b) => (b < a ? b : a));
  return min < 0n ? 0n : min;
}

/** The smallest volume quota, for the kernel to enforce. */
export function kernelQuota(p: SessionPolicy): bigint | undefined {
  return p.maxTotalOctets;
}
