// DHCPv6 (RFC 8415) as far as the lease timers go: the message type, the
// IA_NA (§21.4) and IA_PD (§21.21) options with T1/T2, and the addresses
// (IAADDR, §21.6) and prefixes (IAPREFIX, §21.22) with their lifetimes.
// Everything is bounds-checked: a short or lying option ends the parse.

export const MSG_ADVERTISE = 2;
export const MSG_REPLY = 7;
const OPT_IA_NA = 3;
const OPT_IAADDR = 5;
const OPT_STATUS = 13;
const OPT_IA_PD = 25;
const OPT_IAPREFIX = 26;

export const MESSAGE_NAMES: Record<number, string> = { 1: 'Solicit', 2: 'Advertise', 3: 'Request', 5: 'Renew', 6: 'Rebind', 7: 'Reply' };

export interface Lifetime {
  /** The address, or the prefix with its length. */
  readonly what: string;
  readonly preferred: number;
  readonly valid: number;
}

export interface IdentityAssociation {
  readonly kind: 'IA_NA' | 'IA_PD';
  readonly iaid: number;
  readonly t1: number;
  readonly t2: number;
  readonly leases: Lifetime[];
  /** A status code other than Success inside the IA (RFC 8415 §21.13). */
  readonly status?: number;
}

export interface Dhcpv6Message {
  readonly type: number;
  readonly transactionId: number;
  readonly ias: IdentityAssociation[];
}

function u32(b: Uint8Array, at: number): number {
  return ((b[at] ?? 0) * 0x1000000 + ((b[at + 1] ?? 0) << 16) + ((b[at + 2] ?? 0) << 8) + (b[at + 3] ?? 0)) >>> 0;
}

function u16(b: Uint8Array, at: number): number {
  return ((b[at] ?? 0) << 8) | (b[at + 1] ?? 0);
}

/** Walk options in b[start, end): yields code and the option's data bounds. */
function* options(b: Uint8Array, start: number, end: number): Generator<{ code: number; from: number; to: number }> {
  let at = start;
  while (at + 4 <= end) {
    const code = u16(b, at);
    const len = u16(b, at + 2);
    const from = at + 4;
    const to = from + len;
    if (to > end) return;
    yield { code, from, to };
    at = to;
  }
}

/** An IPv6 address in its compressed text form (RFC 5952). */
export function ipv6Text(b: Uint8Array, at: number): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push(u16(b, at + 2 * i));
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = w.map((x) => x.toString(16));
  if (bestAt < 0) return hex.join(':');
  return `${hex.slice(0, bestAt).join(':')}::${hex.slice(bestAt + bestLen).join(':')}`;
}

/** Parse a DHCPv6 message (the UDP payload). Undefined when it is not one. */
export function parseDhcpv6(b: Uint8Array): Dhcpv6Message | undefined {
  if (b.length < 4) return undefined;
  const type = b[0] ?? 0;
  const transactionId = ((b[1] ?? 0) << 16) | ((b[2] ?? 0) << 8) | (b[3] ?? 0);
  const ias: IdentityAssociation[] = [];
  for (const o of options(b, 4, b.length)) {
    if ((o.code !== OPT_IA_NA && o.code !== OPT_IA_PD) || o.to - o.from < 12) continue;
    const leases: Lifetime[] = [];
    let status: number | undefined;
    for (const s of options(b, o.from + 12, o.to)) {
      if (s.code === OPT_IAADDR && s.to - s.from >= 24) {
        leases.push({ what: ipv6Text(b, s.from), preferred: u32(b, s.from + 16), valid: u32(b, s.from + 20) });
      } else if (s.code === OPT_IAPREFIX && s.to - s.from >= 25) {
        leases.push({ what: `${ipv6Text(b, s.from + 9)}/${String(b[s.from + 8] ?? 0)}`, preferred: u32(b, s.from), valid: u32(b, s.from + 4) });
      } else if (s.code === OPT_STATUS && s.to - s.from >= 2) {
        const code = u16(b, s.from);
        if (code !== 0) status = code;
      }
    }
    const ia = { kind: o.code === OPT_IA_NA ? 'IA_NA' : 'IA_PD', iaid: u32(b, o.from), t1: u32(b, o.from + 4), t2: u32(b, o.from + 8), leases } as const;
    ias.push(status === undefined ? ia : { ...ia, status });
  }
  return { type, transactionId, ias };
}
