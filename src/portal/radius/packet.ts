// RFC 2865 §3 and §5 packet and attribute framing. Everything read from the
// wire is bounds-checked: a datagram is only ever a Buffer of untrusted bytes.
import { radiusError, RADIUS_ERROR } from './errors.js';
import { MESSAGE_AUTHENTICATOR, VENDOR_SPECIFIC } from './dictionary.js';

/** RFC 2865 §3: "The minimum length is 20 and maximum length is 4096." */
export const MIN_PACKET = 20;
export const MAX_PACKET = 4096;
/** RFC 2865 §5: an attribute's Length octet counts Type and Length, so 253 octets of value at most. */
export const MAX_VALUE = 253;
/** A Vendor-Specific sub-attribute (RFC 2865 §5.26 suggested format) loses 4 octets of Vendor-Id and 2 of sub-header. */
export const MAX_VENDOR_VALUE = MAX_VALUE - 6;

/**
 * One attribute. A Vendor-Specific attribute in the RFC 2865 §5.26 suggested
 * format is decoded into one entry per sub-attribute, with `vendor` set; one
 * that does not follow that format stays as type 26 with its raw value.
 */
export interface RadiusAttribute {
  type: number;
  vendor?: number;
  value: Buffer;
}

export interface RadiusPacket {
  code: number;
  identifier: number;
  /** 16 octets. */
  authenticator: Buffer;
  attributes: RadiusAttribute[];
}

function malformed(message: string): never {
  throw radiusError(RADIUS_ERROR.malformed, message);
}

/** Split a Vendor-Specific value into sub-attributes, or undefined when it does not follow the suggested format. */
function decodeVendorSpecific(value: Buffer): RadiusAttribute[] | undefined {
  if (value.length < 4 + 2) return undefined;
  const vendor = value.readUInt32BE(0);
  // RFC 2865 §5.26: the high-order octet of the Vendor-Id is 0.
  if (vendor > 0xffffff) return undefined;
  const out: RadiusAttribute[] = [];
  let at = 4;
  while (at < value.length) {
    if (value.length - at < 2) return undefined;
    const type = value[at] ?? 0;
    const len = value[at + 1] ?? 0;
    if (len < 2 || at + len > value.length) return undefined;
    out.push({ type, vendor, value: Buffer.from(value.subarray(at + 2, at + len)) });
    at += len;
  }
  return out;
}

/**
 * Decode one datagram. Throws MOAT_PORTAL_RADIUS_MALFORMED for anything that
 * is not a RADIUS packet; never reads outside `buf`.
 */
export function decodePacket(buf: Buffer): RadiusPacket {
  if (buf.length < MIN_PACKET) malformed(`datagram of ${String(buf.length)} octets is shorter than a RADIUS header`);
  const length = buf.readUInt16BE(2);
  if (length < MIN_PACKET || length > MAX_PACKET) malformed(`length field ${String(length)} is outside 20..4096`);
  // RFC 2865 §3: shorter than its Length field: discard; octets past it are padding.
  if (buf.length < length) malformed(`datagram of ${String(buf.length)} octets is shorter than its length field ${String(length)}`);
  const code = buf[0] ?? 0;
  const identifier = buf[1] ?? 0;
  const authenticator = Buffer.from(buf.subarray(4, 20));
  const attributes: RadiusAttribute[] = [];
  let at = MIN_PACKET;
  while (at < length) {
    if (length - at < 2) malformed(`truncated attribute header at offset ${String(at)}`);
    const type = buf[at] ?? 0;
    const len = buf[at + 1] ?? 0;
    if (len < 2) malformed(`attribute ${String(type)} at offset ${String(at)} has length ${String(len)}`);
    if (at + len > length) malformed(`attribute ${String(type)} at offset ${String(at)} runs past the packet's end`);
    const value = Buffer.from(buf.subarray(at + 2, at + len));
    if (type === MESSAGE_AUTHENTICATOR && value.length !== 16) malformed(`Message-Authenticator of ${String(value.length)} octets`);
    if (type === VENDOR_SPECIFIC) {
      const subs = decodeVendorSpecific(value);
      if (subs === undefined) attributes.push({ type, value });
      else attributes.push(...subs);
    } else {
      attributes.push({ type, value });
    }
    at += len;
  }
  return { code, identifier, authenticator, attributes };
}

/** The wire form of one attribute (a vendor attribute wrapped in its own Vendor-Specific). */
export function encodeAttribute(a: RadiusAttribute): Buffer {
  if (!Number.isInteger(a.type) || a.type < 1 || a.type > 255) {
    throw radiusError(RADIUS_ERROR.badAttribute, `attribute type ${String(a.type)} is outside 1..255`);
  }
  if (a.vendor === undefined) {
    if (a.value.length > MAX_VALUE) throw radiusError(RADIUS_ERROR.badAttribute, `attribute ${String(a.type)} value of ${String(a.value.length)} octets exceeds ${String(MAX_VALUE)}`);
    return Buffer.concat([Buffer.from([a.type, a.value.length + 2]), a.value]);
  }
  if (!Number.isInteger(a.vendor) || a.vendor < 1 || a.vendor > 0xffffff) {
    throw radiusError(RADIUS_ERROR.badAttribute, `vendor ${String(a.vendor)} is outside 1..16777215`);
  }
  if (a.value.length > MAX_VENDOR_VALUE) {
    throw radiusError(RADIUS_ERROR.badAttribute, `vendor ${String(a.vendor)} attribute ${String(a.type)} value of ${String(a.value.length)} octets exceeds ${String(MAX_VENDOR_VALUE)}`);
  }
  const head = Buffer.alloc(8);
  head[0] = VENDOR_SPECIFIC;
  head[1] = 8 + a.value.length;
  head.writeUInt32BE(a.vendor, 2);
  head[6] = a.type;
  head[7] = a.value.length + 2;
  return Buffer.concat([head, a.value]);
}

/**
 * The wire form of a packet, authenticator as given (see auth.ts for
 * signing). Throws MOAT_PORTAL_RADIUS_TOO_LONG past 4096 octets.
 */
export function encodePacket(p: RadiusPacket): Buffer {
  if (p.authenticator.length !== 16) throw radiusError(RADIUS_ERROR.badAttribute, 'authenticator must be 16 octets');
  if (!Number.isInteger(p.code) || p.code < 0 || p.code > 255 || !Number.isInteger(p.identifier) || p.identifier < 0 || p.identifier > 255) {
    throw radiusError(RADIUS_ERROR.badAttribute, 'code and identifier must be octets');
  }
  const parts = p.attributes.map(encodeAttribute);
  const length = MIN_PACKET + parts.reduce((n, b) => n + b.length, 0);
  if (length > MAX_PACKET) throw radiusError(RADIUS_ERROR.tooLong, `packet of ${String(length)} octets exceeds ${String(MAX_PACKET)}`);
  const head = Buffer.alloc(MIN_PACKET);
  head[0] = p.code;
  head[1] = p.identifier;
  head.writeUInt16BE(length, 2);
  p.authenticator.copy(head, 4);
  return Buffer.concat([head, ...parts], length);
}

/**
 * The offset of the first Message-Authenticator's value in an encoded
 * packet, or -1. `buf` must already have passed decodePacket.
 */
export function messageAuthenticatorOffset(buf: Buffer): number {
  const length = buf.readUInt16BE(2);
  let at = MIN_PACKET;
  while (at + 2 <= length) {
    const len = buf[at + 1] ?? 0;
    if (len < 2) return -1;
    if (buf[at] === MESSAGE_AUTHENTICATOR && len === 18) return at + 2;
    at += len;
  }
  return -1;
}
