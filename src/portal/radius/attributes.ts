// Typed attribute values: build an attribute from a name and a JavaScript
// value, and read one back with its type checked (RFC 8044 data types).
import { radiusError, RADIUS_ERROR } from './errors.js';
import { attributeByName, type AttributeDef } from './dictionary.js';
import { MAX_VALUE, MAX_VENDOR_VALUE, type RadiusAttribute } from './packet.js';
import { formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from './ip-address.js';

export type AttributeValue = string | number | Buffer | Date;

function bad(def: AttributeDef, why: string): never {
  throw radiusError(RADIUS_ERROR.badAttribute, `${def.name}: ${why}`);
}

function definition(name: string): AttributeDef {
  const def = attributeByName(name);
  if (def === undefined) throw radiusError(RADIUS_ERROR.badAttribute, `unknown attribute ${name}`);
  return def;
}

/** The octets of `value` as attribute `def`. */
export function encodeValue(def: AttributeDef, value: AttributeValue): Buffer {
  const max = def.vendor === undefined ? MAX_VALUE : MAX_VENDOR_VALUE;
  switch (def.dataType) {
    case 'text':
    case 'string': {
      const b = Buffer.isBuffer(value) ? value : typeof value === 'string' ? Buffer.from(value, 'utf8') : bad(def, 'wants a string');
      // RFC 2865 §5: text and string are 1..253 octets.
      if (b.length === 0) bad(def, 'empty value');
      if (b.length > max) bad(def, `value of ${String(b.length)} octets exceeds ${String(max)}`);
      return b;
    }
    case 'integer':
    case 'time': {
      let n: number;
      if (value instanceof Date) n = Math.floor(value.getTime() / 1000);
      else if (typeof value === 'number') n = value;
      else if (typeof value === 'string' && def.values?.[value] !== undefined) n = def.values[value];
      else bad(def, `wants an integer${def.values === undefined ? '' : ' or one of ' + Object.keys(def.values).join(', ')}`);
      if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) bad(def, `${String(n)} is outside 0..4294967295`);
      const b = Buffer.alloc(4);
      b.writeUInt32BE(n);
      return b;
    }
    case 'ipv4addr': {
      const b = typeof value === 'string' ? parseIpv4(value) : undefined;
      return b ?? bad(def, `${String(value)} is not an IPv4 address`);
    }
    case 'ipv6addr': {
      const b = typeof value === 'string' ? parseIpv6(value) : undefined;
      return b ?? bad(def, `${String(value)} is not an IPv6 address`);
    }
    case 'ipv6prefix': {
      // RFC 3162 §2.3: Reserved, Prefix-Length, then the prefix's significant octets.
      const m = typeof value === 'string' ? /^([^/]+)\/([0-9]{1,3})$/.exec(value) : null;
      const addr = m === null ? undefined : parseIpv6(m[1] ?? '');
      const len = m === null ? NaN : Number(m[2]);
      if (addr === undefined || !(len >= 0 && len <= 128)) bad(def, `${String(value)} is not an IPv6 prefix`);
      return Buffer.concat([Buffer.from([0, len]), addr.subarray(0, Math.ceil(len / 8))]);
    }
    case 'ifid': {
      if (!Buffer.isBuffer(value) || value.length !== 8) bad(def, 'wants 8 octets');
      return value;
    }
  }
}

/** The JavaScript value of attribute octets, type checked. Throws MOAT_PORTAL_RADIUS_BAD_ATTRIBUTE. */
export function decodeValue(def: AttributeDef, b: Buffer): string | number | Buffer | Date {
  switch (def.dataType) {
    case 'text':
      return b.toString('utf8');
    case 'string':
      return b;
    case 'integer':
      if (b.length !== 4) bad(def, `integer of ${String(b.length)} octets`);
      return b.readUInt32BE(0);
    case 'time':
      if (b.length !== 4) bad(def, `time of ${String(b.length)} octets`);
      return new Date(b.readUInt32BE(0) * 1000);
    case 'ipv4addr':
      if (b.length !== 4) bad(def, `IPv4 address of ${String(b.length)} octets`);
      return formatIpv4(b);
    case 'ipv6addr':
      if (b.length !== 16) bad(def, `IPv6 address of ${String(b.length)} octets`);
      return formatIpv6(b);
    case 'ipv6prefix': {
      const len = b[1] ?? 255;
      if (b.length < 2 || b.length > 18 || len > 128 || b.length - 2 < Math.ceil(len / 8)) bad(def, 'malformed IPv6 prefix');
      const addr = Buffer.alloc(16);
      b.copy(addr, 0, 2, 2 + Math.ceil(len / 8));
      return `${formatIpv6(addr)}/${String(len)}`;
    }
    case 'ifid':
      if (b.length !== 8) bad(def, `interface id of ${String(b.length)} octets`);
      return b;
  }
}

/** An attribute by dictionary name: `attr('NAS-Port-Type', 'Wireless-802.11')`. */
export function attr(name: string, value: AttributeValue): RadiusAttribute {
  const def = definition(name);
  const encoded = encodeValue(def, value);
  return def.vendor === undefined ? { type: def.type, value: encoded } : { type: def.type, vendor: def.vendor, value: encoded };
}

function matches(a: RadiusAttribute, def: AttributeDef): boolean {
  return a.type === def.type && a.vendor === def.vendor;
}

/** Every instance of attribute `name`, in packet order. */
export function getAll(attrs: readonly RadiusAttribute[], name: string): RadiusAttribute[] {
  const def = definition(name);
  return attrs.filter((a) => matches(a, def));
}

/** The first instance's raw octets. */
export function getRaw(attrs: readonly RadiusAttribute[], name: string): Buffer | undefined {
  const def = definition(name);
  return attrs.find((a) => matches(a, def))?.value;
}

export function getText(attrs: readonly RadiusAttribute[], name: string): string | undefined {
  const def = definition(name);
  const a = attrs.find((x) => matches(x, def));
  if (a === undefined) return undefined;
  const v = decodeValue(def, a.value);
  return typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
}

export function getInteger(attrs: readonly RadiusAttribute[], name: string): number | undefined {
  const def = definition(name);
  if (def.dataType !== 'integer' && def.dataType !== 'time') throw radiusError(RADIUS_ERROR.badAttribute, `${name} is not an integer attribute`);
  const a = attrs.find((x) => matches(x, def));
  if (a === undefined) return undefined;
  return decodeValue({ ...def, dataType: 'integer' }, a.value) as number;
}
