// From the attributes of an Access-Accept or a CoA-Request to the policy the
// gateway enforces: the attributes CoovaChilli honours (issue 13), typed.
import { radiusError, RADIUS_ERROR } from './errors.js';
import { MESSAGE_AUTHENTICATOR, PROXY_STATE, VENDOR_CHILLISPOT, VENDOR_WISPR } from './dictionary.js';
import { getAll, getInteger, getText } from './attributes.js';
import type { RadiusAttribute } from './packet.js';

/** What an Access-Accept (or a CoA-Request) tells the gateway to enforce; the shape of P's ports.ts. */
export interface SessionPolicy {
  /** RFC 2865 §5.27, seconds. */
  sessionTimeout?: number;
  /** RFC 2865 §5.28, seconds. */
  idleTimeout?: number;
  /** RFC 2869 §5.16, seconds (as sent; RFC 2869 says it SHOULD NOT be below 60, the caller may clamp). */
  interimInterval?: number;
  /**
   * bit/s: ChilliSpot-Bandwidth-Max-Up/Down (kbit/s) × 1000 when present, else
   * WISPr-Bandwidth-Max-Up/Down (bit/s); CoovaChilli reads them in that precedence.
   */
  bandwidthUp?: number;
  bandwidthDown?: number;
  /** WISPr-Session-Terminate-Time (ISO 8601; without a zone, local time as CoovaChilli reads it). */
  terminateTime?: Date;
  /** WISPr-Redirection-URL. */
  redirectionUrl?: string;
  /** RFC 2865 §5.25 Class, every instance in order, to echo in accounting. */
  class?: Buffer[];
  /** ChilliSpot-Max-{Input,Output,Total}-Octets + 2^32 × their -Gigawords, bytes. */
  maxInputOctets?: bigint;
  maxOutputOctets?: bigint;
  maxTotalOctets?: bigint;
}

const GIGA = 1n << 32n;

function octets(attrs: readonly RadiusAttribute[], base: string): bigint | undefined {
  const lo = getInteger(attrs, `ChilliSpot-Max-${base}-Octets`);
  const hi = getInteger(attrs, `ChilliSpot-Max-${base}-Gigawords`);
  if (lo === undefined && hi === undefined) return undefined;
  return BigInt(hi ?? 0) * GIGA + BigInt(lo ?? 0);
}

// WISPr 1.0 appendix D: "YYYY-MM-DDThh:mm:ssTZD", TZD = Z or ±hh:mm (CoovaChilli also takes no TZD).
const WISPR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})?$/;

/**
 * The policy in `attrs`. Throws MOAT_PORTAL_RADIUS_BAD_ATTRIBUTE when one of
 * the attributes it reads has a value that does not fit its type.
 */
export function mapPolicy(attrs: readonly RadiusAttribute[]): SessionPolicy {
  const p: SessionPolicy = {};
  const sessionTimeout = getInteger(attrs, 'Session-Timeout');
  if (sessionTimeout !== undefined) p.sessionTimeout = sessionTimeout;
  const idleTimeout = getInteger(attrs, 'Idle-Timeout');
  if (idleTimeout !== undefined) p.idleTimeout = idleTimeout;
  const interim = getInteger(attrs, 'Acct-Interim-Interval');
  if (interim !== undefined) p.interimInterval = interim;
  const kbit = (n: number | undefined): number | undefined => (n === undefined ? undefined : n * 1000);
  const up = kbit(getInteger(attrs, 'ChilliSpot-Bandwidth-Max-Up')) ?? getInteger(attrs, 'WISPr-Bandwidth-Max-Up');
  if (up !== undefined) p.bandwidthUp = up;
  const down = kbit(getInteger(attrs, 'ChilliSpot-Bandwidth-Max-Down')) ?? getInteger(attrs, 'WISPr-Bandwidth-Max-Down');
  if (down !== undefined) p.bandwidthDown = down;
  const terminate = getText(attrs, 'WISPr-Session-Terminate-Time');
  if (terminate !== undefined) {
    const t = WISPR_TIME.test(terminate) ? new Date(terminate) : undefined;
    if (t === undefined || Number.isNaN(t.getTime())) {
      throw radiusError(RADIUS_ERROR.badAttribute, `WISPr-Session-Terminate-Time: ${JSON.stringify(terminate)} is not YYYY-MM-DDThh:mm:ssTZD`);
    }
    p.terminateTime = t;
  }
  const url = getText(attrs, 'WISPr-Redirection-URL');
  if (url !== undefined) p.redirectionUrl = url;
  const cls = getAll(attrs, 'Class').map((a) => a.value);
  if (cls.length > 0) p.class = cls;
  const maxIn = octets(attrs, 'Input');
  if (maxIn !== undefined) p.maxInputOctets = maxIn;
  const maxOut = octets(attrs, 'Output');
  if (maxOut !== undefined) p.maxOutputOctets = maxOut;
  const maxTotal = octets(attrs, 'Total');
  if (maxTotal !== undefined) p.maxTotalOctets = maxTotal;
  return p;
}

// RFC 5176 §3: the attributes that identify a session (or the NAS) in a CoA/Disconnect-Request.
const IDENTIFICATION = new Set([1, 4, 5, 8, 30, 31, 32, 44, 50, 61, 87, 89, 95, 97, 168]);
// Attributes that may accompany any request: Service-Type, Reply-Message, State, Proxy-State,
// Acct-Terminate-Cause, Event-Timestamp, Message-Authenticator.
const CARRIER = new Set([6, 18, 24, PROXY_STATE, 49, 55, MESSAGE_AUTHENTICATOR]);
// The policy attributes mapPolicy honours.
const POLICY = new Set([25, 27, 28, 85]);
const VENDOR_POLICY: ReadonlyMap<number, ReadonlySet<number>> = new Map([
  [VENDOR_WISPR, new Set([1, 2, 3, 4, 7, 8, 9])],
  [VENDOR_CHILLISPOT, new Set([1, 2, 3, 4, 5, 21, 22, 23])],
]);

/** Attributes a CoA/Disconnect-Request carries that moat does not act on (for NAK 401, RFC 5176 §3.5). */
export function unsupportedAttributes(attrs: readonly RadiusAttribute[]): RadiusAttribute[] {
  return attrs.filter((a) =>
    a.vendor === undefined
      ? !IDENTIFICATION.has(a.type) && !CARRIER.has(a.type) && !POLICY.has(a.type)
      : !(VENDOR_POLICY.get(a.vendor)?.has(a.type) ?? false),
  );
}

/** Does the request carry at least one attribute that identifies a session? (NAS identity alone does not.) */
export function hasSessionIdentification(attrs: readonly RadiusAttribute[]): boolean {
  return attrs.some((a) => a.vendor === undefined && IDENTIFICATION.has(a.type) && a.type !== 4 && a.type !== 32 && a.type !== 95);
}
