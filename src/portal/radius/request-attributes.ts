// The attributes of the requests a captive-portal NAS sends: Access-Request
// (RFC 2865 §4.1 with PAP §5.2 or CHAP §5.3) and Accounting-Request (RFC 2866,
// RFC 2869 §5.1-2 gigawords), as CoovaChilli sends them.
import { lazyCrypto } from '../../core/index.js';
import { radiusError, RADIUS_ERROR } from './errors.js';
import { ACCT_STATUS_TYPE, TERMINATE_CAUSE } from './dictionary.js';
import { attr } from './attributes.js';
import { chapPassword, hidePassword } from './authenticator.js';
import type { RadiusAttribute } from './packet.js';

export type Credentials =
  | { kind: 'pap'; userName: string; password: string }
  | { kind: 'chap'; userName: string; chapId: number; challenge: Buffer; response: Buffer }
  /** MAC authentication: sent as PAP with the configured MAC password. */
  | { kind: 'mac'; userName: string; password: string };

export interface AuthRequest {
  credentials: Credentials;
  /** The client's MAC in any common form; sent as AA-BB-CC-DD-EE-FF (RFC 3580 §3.21). */
  callingStationId: string;
  /** Overrides the client option calledStationId. */
  calledStationId?: string;
  framedIpAddress?: string;
  framedIpv6Address?: string;
  acctSessionId?: string;
  /** More attributes, appended as given. */
  extra?: RadiusAttribute[];
}

export type AcctStatus = keyof typeof ACCT_STATUS_TYPE;

export interface AcctRequest {
  statusType: AcctStatus;
  /** Required for start/interim/stop; generated for on/off when absent. */
  acctSessionId?: string;
  userName?: string;
  callingStationId?: string;
  calledStationId?: string;
  framedIpAddress?: string;
  framedIpv6Address?: string;
  /** Seconds. */
  sessionTime?: number;
  /** From the client (Acct-Input-*), to the client (Acct-Output-*); octets split into octets + gigawords. */
  inputOctets?: bigint;
  outputOctets?: bigint;
  inputPackets?: bigint;
  outputPackets?: bigint;
  /** RFC 2866 §5.10 value or name (stop only). */
  terminateCause?: number | keyof typeof TERMINATE_CAUSE;
  class?: Buffer[];
  /** Seconds the record waited before this first transmission (RFC 2866 §5.2). */
  delayTime?: number;
  extra?: RadiusAttribute[];
}

/** What the NAS says about itself in every request. */
export interface NasIdentity {
  nasIdentifier: string;
  nasIpAddress?: string;
  nasIpv6Address?: string;
  calledStationId?: string;
  locationId?: string;
  locationName?: string;
}

const MAC = /^([0-9a-f]{2})[-:.]?([0-9a-f]{2})[-:.]?([0-9a-f]{2})[-:.]?([0-9a-f]{2})[-:.]?([0-9a-f]{2})[-:.]?([0-9a-f]{2})$/i;

/** `aa:bb:cc:dd:ee:ff` (or dashes, or none) as RFC 3580 §3.21 wants it: `AA-BB-CC-DD-EE-FF`. Other text is returned as is. */
export function macToCallingStationId(mac: string): string {
  const m = MAC.exec(mac.trim());
  return m === null ? mac : m.slice(1, 7).join('-').toUpperCase();
}

function nasAttributes(nas: NasIdentity, calledStationId: string | undefined): RadiusAttribute[] {
  const out = [attr('NAS-Identifier', nas.nasIdentifier)];
  if (nas.nasIpAddress !== undefined) out.push(attr('NAS-IP-Address', nas.nasIpAddress));
  if (nas.nasIpv6Address !== undefined) out.push(attr('NAS-IPv6-Address', nas.nasIpv6Address));
  const called = calledStationId ?? nas.calledStationId;
  if (called !== undefined && called !== '') out.push(attr('Called-Station-Id', called));
  return out;
}

function locationAttributes(nas: NasIdentity): RadiusAttribute[] {
  const out: RadiusAttribute[] = [];
  if (nas.locationId !== undefined) out.push(attr('WISPr-Location-ID', nas.locationId));
  if (nas.locationName !== undefined) out.push(attr('WISPr-Location-Name', nas.locationName));
  return out;
}

/** Access-Request attributes after the Message-Authenticator, for one server's secret and this request's authenticator. */
export function accessRequestAttributes(req: AuthRequest, nas: NasIdentity, secret: Buffer, authenticator: Buffer): RadiusAttribute[] {
  const c = req.credentials;
  const out = [attr('User-Name', c.userName)];
  if (c.kind === 'chap') {
    out.push({ type: 3, value: chapPassword(c.chapId, c.response) });
    // RFC 2865 §5.40: the challenge goes in CHAP-Challenge (always, not in the authenticator, so any length works).
    out.push(attr('CHAP-Challenge', c.challenge));
  } else {
    out.push({ type: 2, value: hidePassword(Buffer.from(c.password, 'utf8'), secret, authenticator) });
  }
  out.push(...nasAttributes(nas, req.calledStationId));
  out.push(attr('Service-Type', 'Login-User'), attr('NAS-Port-Type', 'Wireless-802.11'));
  if (req.callingStationId !== '') out.push(attr('Calling-Station-Id', macToCallingStationId(req.callingStationId)));
  if (req.framedIpAddress !== undefined && req.framedIpAddress !== '') out.push(attr('Framed-IP-Address', req.framedIpAddress));
  if (req.framedIpv6Address !== undefined) out.push(attr('Framed-IPv6-Address', req.framedIpv6Address));
  if (req.acctSessionId !== undefined && req.acctSessionId !== '') out.push(attr('Acct-Session-Id', req.acctSessionId));
  out.push(...locationAttributes(nas), ...(req.extra ?? []));
  return out;
}

const GIGA = 1n << 32n;
const U32 = 0xffffffffn;

function splitOctets(name: 'Input' | 'Output', n: bigint): RadiusAttribute[] {
  if (n < 0n || n >= GIGA * GIGA) throw radiusError(RADIUS_ERROR.badAttribute, `Acct-${name}-Octets ${String(n)} out of range`);
  // RFC 2869 §5.1-2: Gigawords counts how many times the 32-bit Octets counter wrapped.
  return [attr(`Acct-${name}-Octets`, Number(n & U32)), attr(`Acct-${name}-Gigawords`, Number(n >> 32n))];
}

/** A fresh Acct-Session-Id: 16 hex digits, unique per NAS boot and session. */
export function newAcctSessionId(): string {
  return lazyCrypto().randomBytes(8).toString('hex').toUpperCase();
}

/** Accounting-Request attributes after the Message-Authenticator. */
export function accountingRequestAttributes(req: AcctRequest, nas: NasIdentity): RadiusAttribute[] {
  const status = ACCT_STATUS_TYPE[req.statusType];
  const onOff = req.statusType === 'on' || req.statusType === 'off';
  if (!onOff && (req.acctSessionId === undefined || req.acctSessionId === '')) {
    throw radiusError(RADIUS_ERROR.badAttribute, `Accounting ${req.statusType} needs an Acct-Session-Id`);
  }
  const out = [attr('Acct-Status-Type', status), attr('Acct-Session-Id', req.acctSessionId ?? newAcctSessionId())];
  if (req.userName !== undefined && req.userName !== '') out.push(attr('User-Name', req.userName));
  out.push(...nasAttributes(nas, req.calledStationId));
  out.push(attr('NAS-Port-Type', 'Wireless-802.11'));
  if (!onOff) out.push(attr('Service-Type', 'Login-User'), attr('Acct-Authentic', 'RADIUS'));
  if (req.callingStationId !== undefined && req.callingStationId !== '') out.push(attr('Calling-Station-Id', macToCallingStationId(req.callingStationId)));
  if (req.framedIpAddress !== undefined && req.framedIpAddress !== '') out.push(attr('Framed-IP-Address', req.framedIpAddress));
  if (req.framedIpv6Address !== undefined) out.push(attr('Framed-IPv6-Address', req.framedIpv6Address));
  if (req.class !== undefined) for (const c of req.class) out.push(attr('Class', c));
  if (req.sessionTime !== undefined) out.push(attr('Acct-Session-Time', Math.max(0, Math.floor(req.sessionTime))));
  if (req.inputOctets !== undefined) out.push(...splitOctets('Input', req.inputOctets));
  if (req.outputOctets !== undefined) out.push(...splitOctets('Output', req.outputOctets));
  // Packet counters have no gigawords: they are 32-bit and wrap (RFC 2866 §5.8-9).
  if (req.inputPackets !== undefined) out.push(attr('Acct-Input-Packets', Number(req.inputPackets & U32)));
  if (req.outputPackets !== undefined) out.push(attr('Acct-Output-Packets', Number(req.outputPackets & U32)));
  if (req.terminateCause !== undefined) {
    if (req.statusType !== 'stop') throw radiusError(RADIUS_ERROR.badAttribute, 'Acct-Terminate-Cause belongs in a Stop record only (RFC 2866 §5.10)');
    out.push(attr('Acct-Terminate-Cause', req.terminateCause));
  }
  out.push(attr('Acct-Delay-Time', Math.max(0, Math.floor(req.delayTime ?? 0))), attr('Event-Timestamp', new Date()));
  out.push(...locationAttributes(nas), ...(req.extra ?? []));
  return out;
}
