// Find the DHCPv6 messages a server sent (UDP 547 → 546) in captured frames:
// Ethernet (with 802.1Q tags), Linux cooked (SLL, SLL2), BSD loopback and
// raw IP, then IPv6 with its extension headers, then UDP.
import { ipv6Text } from './dhcpv6-message.js';

const LINKTYPE_NULL = 0;
const LINKTYPE_ETHERNET = 1;
const LINKTYPE_RAW = 101;
const LINKTYPE_LINUX_SLL = 113;
const LINKTYPE_IPV6 = 229;
const LINKTYPE_LINUX_SLL2 = 276;
const LINKTYPE_LOOP = 108;

export interface Dhcpv6Datagram {
  readonly source: string;
  readonly payload: Uint8Array;
}

function u16(b: Uint8Array, at: number): number {
  return ((b[at] ?? 0) << 8) | (b[at + 1] ?? 0);
}

/** Where the IPv6 header starts, or -1 when the frame carries something else. */
function ipv6Offset(linktype: number, d: Uint8Array): number {
  switch (linktype) {
    case LINKTYPE_ETHERNET: {
      let at = 12;
      let type = u16(d, at);
      // 802.1Q and 802.1ad tags each add four bytes before the real type.
      while ((type === 0x8100 || type === 0x88a8) && at + 6 <= d.length) {
        at += 4;
        type = u16(d, at);
      }
      return type === 0x86dd ? at + 2 : -1;
    }
    case LINKTYPE_LINUX_SLL:
      return u16(d, 14) === 0x86dd ? 16 : -1;
    case LINKTYPE_LINUX_SLL2:
      return u16(d, 0) === 0x86dd ? 20 : -1;
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP:
      // The address family, in either byte order: 10 (Linux), 24, 28, 30 (the BSDs, macOS).
      return [10, 24, 28, 30].includes((d[0] ?? 0) | (d[3] ?? 0)) ? 4 : -1;
    case LINKTYPE_RAW:
    case LINKTYPE_IPV6:
      return ((d[0] ?? 0) >> 4) === 6 ? 0 : -1;
    default:
      return -1;
  }
}

/** A server-to-client DHCPv6 datagram in this frame, if there is one. */
export function dhcpv6FromFrame(linktype: number, d: Uint8Array): Dhcpv6Datagram | undefined {
  const ip = ipv6Offset(linktype, d);
  if (ip < 0 || ip + 40 > d.length || ((d[ip] ?? 0) >> 4) !== 6) return undefined;
  const payloadLength = u16(d, ip + 4);
  const end = Math.min(d.length, ip + 40 + payloadLength);
  let next = d[ip + 6] ?? 0;
  let at = ip + 40;
  // RFC 8200 §4: hop-by-hop, routing and destination options carry their length; a later fragment carries no UDP header.
  for (let hops = 0; hops < 8 && next !== 17; hops++) {
    if (at + 8 > end) return undefined;
    if (next === 0 || next === 43 || next === 60) {
      const len = ((d[at + 1] ?? 0) + 1) * 8;
      next = d[at] ?? 0;
      at += len;
    } else if (next === 44) {
      if ((u16(d, at + 2) & 0xfff8) !== 0) return undefined;
      next = d[at] ?? 0;
      at += 8;
    } else return undefined;
  }
  if (next !== 17 || at + 8 > end) return undefined;
  if (u16(d, at) !== 547 || u16(d, at + 2) !== 546) return undefined;
  const udpEnd = Math.min(end, at + u16(d, at + 4));
  return { source: ipv6Text(d, ip + 8), payload: d.slice(at + 8, udpEnd) };
}
