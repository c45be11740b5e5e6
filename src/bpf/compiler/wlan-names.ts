// The 802.11 frame type, subtype and direction names of pcap-filter(7)
// (grammar.y's tables; values are frame-control bits, IEEE 802.11-2016
// §9.2.4.1.3). Lookups are case-insensitive, as libpcap's str2tok.

export const WLAN_TYPE_MASK = 0x0c;
export const WLAN_SUBTYPE_MASK = 0xf0;

const TYPES: Record<string, number> = { data: 0x08, mgt: 0x00, management: 0x00, ctl: 0x04, control: 0x04 };

const MGT: Record<string, number> = {
  assocreq: 0x00, 'assoc-req': 0x00, assocresp: 0x10, 'assoc-resp': 0x10, reassocreq: 0x20, 'reassoc-req': 0x20,
  reassocresp: 0x30, 'reassoc-resp': 0x30, probereq: 0x40, 'probe-req': 0x40, proberesp: 0x50, 'probe-resp': 0x50,
  beacon: 0x80, atim: 0x90, disassoc: 0xa0, disassociation: 0xa0, auth: 0xb0, authentication: 0xb0, deauth: 0xc0,
  deauthentication: 0xc0,
};
// `bar` and `ba` (block ack request / block ack) are libpcap master's; 1.10.3 lacks them.
const CTL: Record<string, number> = { bar: 0x80, ba: 0x90, 'ps-poll': 0xa0, rts: 0xb0, cts: 0xc0, ack: 0xd0, 'cf-end': 0xe0, 'cf-end-ack': 0xf0 };
const DATA: Record<string, number> = {
  data: 0x00, 'data-cf-ack': 0x10, 'data-cf-poll': 0x20, 'data-cf-ack-poll': 0x30, null: 0x40, 'cf-ack': 0x50,
  'cf-poll': 0x60, 'cf-ack-poll': 0x70, 'qos-data': 0x80, 'qos-data-cf-ack': 0x90, 'qos-data-cf-poll': 0xa0,
  'qos-data-cf-ack-poll': 0xb0, qos: 0xc0, 'qos-cf-poll': 0xe0, 'qos-cf-ack-poll': 0xf0,
};
/** In grammar.y's order: a bare `subtype NAME` takes the first table that has NAME. */
const SUBTYPES: readonly (readonly [number, Record<string, number>])[] = [[0x00, MGT], [0x04, CTL], [0x08, DATA]];

const DIRS: Record<string, number> = { nods: 0, tods: 1, fromds: 2, dstods: 3 };

function lookup(table: Record<string, number>, name: string): number | undefined {
  const key = name.toLowerCase();
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

const hex = (v: number): string => `0x${v.toString(16).padStart(2, '0')}`;

/** A resolved value, or libpcap's message for the grammar action that fails. */
export type Resolved = { value: number } | { error: string };

export function wlanType(num: number | null, name: string): Resolved {
  if (num !== null) return (num & ~WLAN_TYPE_MASK) !== 0 ? { error: `invalid 802.11 type value ${hex(num)}` } : { value: num };
  const v = lookup(TYPES, name);
  return v === undefined ? { error: `unknown 802.11 type name "${name}"` } : { value: v };
}

/** `type T subtype S`: S among T's subtypes. */
export function wlanSubtypeOf(type: number, num: number | null, name: string): Resolved {
  if (num !== null) return (num & ~WLAN_SUBTYPE_MASK) !== 0 ? { error: `invalid 802.11 subtype value ${hex(num)}` } : { value: num };
  const table = SUBTYPES.find(([t]) => t === type)?.[1];
  if (table === undefined) return { error: 'unknown 802.11 type' };
  const v = lookup(table, name);
  return v === undefined ? { error: `unknown 802.11 subtype name "${name}"` } : { value: v };
}

/** A bare `subtype NAME`: type and subtype bits together. */
export function wlanTypeSubtype(name: string): Resolved {
  for (const [type, table] of SUBTYPES) {
    const v = lookup(table, name);
    if (v !== undefined) return { value: type | v };
  }
  return { error: `unknown 802.11 type name "${name}"` };
}

export function wlanDir(num: number | null, name: string): Resolved {
  if (num !== null) return num > 3 ? { error: `invalid 802.11 direction value ${String(num)}` } : { value: num };
  const v = lookup(DIRS, name);
  return v === undefined ? { error: 'unknown 802.11 direction' } : { value: v };
}
