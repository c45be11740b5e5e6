// Random pcap-filter(7) expressions from the grammar, seeded and
// deterministic: primitives (hosts, nets, ports, protocols, ICMP types, TCP
// flags, packet-data relations, arithmetic, lengths, and the link-layer
// primitives of each link type), joined by and/or/not and parentheses.
// For program-size measurements (bench/bpf.ts, the size test) over every
// link type moat bpf compiles for.
import { SUPPORTED_LINKTYPES } from '../../../src/bpf/compiler/index.js';
import { int, rng, type Rng } from '../../helpers/rng.js';

const pick = <T>(r: Rng, xs: readonly T[]): T => xs[int(r, xs.length)] as T;

const V4 = ['10.0.0.1', '192.0.2.7', '198.51.100.20', '172.16.5.4', '127.0.0.1'];
const NETS4 = ['10.0.0.0/8', '192.168.0.0/16', '172.16.0.0/12', '192.0.2.0/24', '198.51.100.128/25', '10.1.0.0/20'];
const V6 = ['2001:db8::1', 'fe80::1', '::1', '2001:db8:1::53'];
const NETS6 = ['2001:db8::/32', 'fe80::/10', '2001:db8:1::/48', 'ff02::/16'];
const PORTS = ['22', '25', '53', '80', '123', '443', '8080', '1194', '5060'];
const RANGES = ['1-1023', '6000-6063', '33434-33534'];
const MACS = ['00:11:22:33:44:55', 'ff:ff:ff:ff:ff:ff', '01:00:5e:00:00:01'];
const FLAGS = ['tcp-syn', 'tcp-ack', 'tcp-fin', 'tcp-rst', 'tcp-push', 'tcp-syn|tcp-ack'];
const ICMP_TYPES = ['icmp-echo', 'icmp-echoreply', 'icmp-unreach', 'icmp-timxceed', '3', '11'];
const RELOPS = ['=', '!=', '>', '<', '>=', '<='];

/** A primitive any link type that carries IP compiles. */
function ipPrimitive(r: Rng): string {
  const dir = pick(r, ['', '', 'src ', 'dst ']);
  switch (int(r, 24)) {
    case 0: return `${dir}host ${pick(r, V4)}`;
    case 1: return `${dir}net ${pick(r, NETS4)}`;
    case 2: return `${dir}port ${pick(r, PORTS)}`;
    case 3: return `${pick(r, ['tcp', 'udp'])} ${dir}port ${pick(r, PORTS)}`;
    case 4: return `${pick(r, ['', 'tcp ', 'udp '])}portrange ${pick(r, RANGES)}`;
    case 5: return pick(r, ['tcp', 'udp', 'icmp', 'ip', 'ip6', 'icmp6', 'igmp', 'sctp', 'esp', 'ah', 'pim', 'vrrp']);
    case 6: return `ip proto ${pick(r, ['1', '6', '17', '47', '50', '89', '\\tcp', '\\udp'])}`;
    case 7: return `ip6 ${dir}host ${pick(r, V6)}`;
    case 8: return `ip6 ${dir}net ${pick(r, NETS6)}`;
    case 9: return `tcp[tcpflags] & (${pick(r, FLAGS)}) != 0`;
    case 10: return `tcp[tcpflags] & (${pick(r, FLAGS)}) == ${pick(r, FLAGS)}`;
    case 11: return `icmp[icmptype] ${pick(r, ['==', '!='])} ${pick(r, ICMP_TYPES)}`;
    case 12: return `ip[${pick(r, ['0', '1', '8', '9'])}] ${pick(r, RELOPS)} ${String(int(r, 256))}`;
    case 13: return `ip[2:2] ${pick(r, RELOPS)} ${String(int(r, 1500))}`;
    case 14: return `ip[6:2] & 0x1fff ${pick(r, ['=', '!='])} 0`;
    case 15: return `${pick(r, ['len', 'ip[2:2]'])} ${pick(r, RELOPS)} ${String(40 + int(r, 1460))}`;
    case 16: return `${pick(r, ['less', 'greater'])} ${String(64 + int(r, 1400))}`;
    case 17: return `udp[${pick(r, ['0', '2', '8', '10'])}:2] ${pick(r, ['=', '>', '!='])} ${String(int(r, 65536))}`;
    case 18: return `udp port 53 and udp[10] & 0x80 ${pick(r, ['=', '!='])} 0`;
    case 19: return `ip[2:2] - ((ip[0]&0xf)<<2) ${pick(r, ['>', '<', '!='])} ${String(20 + int(r, 500))}`;
    case 20: return pick(r, ['ip multicast', 'ip6 multicast', 'ip broadcast']);
    case 21: return `ip6[6] ${pick(r, ['=', '!='])} ${pick(r, ['6', '17', '58', '44'])}`;
    case 22: return `${dir}host ${pick(r, V6)}`;
    default: return `tcp[${pick(r, ['12', '13'])}] & ${pick(r, ['0xf0', '0x02', '7', '0x12'])} ${pick(r, ['!=', '='])} 0`;
  }
}

/** A primitive of the link layer, for link types that have it. */
function linkPrimitive(r: Rng, dlt: number): string | null {
  switch (dlt) {
    case 1: // EN10MB
      return pick(r, [
        `ether ${pick(r, ['host', 'src', 'dst'])} ${pick(r, MACS)}`, 'arp', 'rarp', 'ether broadcast', 'ether multicast',
        `vlan ${String(1 + int(r, 4094))}`, 'vlan', 'ether proto \\ip6', `ether[${String(int(r, 14))}] & 1 != 0`, 'stp', 'broadcast', 'multicast',
      ]);
    case 105: case 119: case 127: case 163: case 192: // 802.11
      return pick(r, ['wlan type data', 'wlan type mgt', 'wlan subtype beacon', `wlan host ${pick(r, MACS)}`, 'wlan dir tods', 'broadcast', 'multicast', 'arp']);
    case 113: case 276: // Linux cooked
      return pick(r, ['arp', 'inbound', 'outbound']);
    case 117: // pflog
      return pick(r, ['action pass', 'action block', 'reason match', 'inbound', 'outbound']);
    case 8: // SLIP
      return pick(r, ['inbound', 'outbound', 'slip[0] = 1']);
    case 9: case 50: case 104:
      return pick(r, ['iso', 'isis', 'mpls', `ppp[2:2] = 0x${pick(r, ['21', '57', '800'])}`]);
    case 107:
      return pick(r, ['iso', 'isis', 'clnp']);
    default:
      return null;
  }
}

function primitive(r: Rng, dlt: number): string {
  if (int(r, 5) === 0) {
    const l = linkPrimitive(r, dlt);
    if (l !== null) return l;
  }
  return ipPrimitive(r);
}

function expression(r: Rng, dlt: number, depth: number): string {
  if (depth <= 0 || int(r, 3) === 0) {
    const p = primitive(r, dlt);
    return int(r, 7) === 0 ? `not ${p}` : p;
  }
  const n = 2 + int(r, 2);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    const sub = expression(r, dlt, depth - 1);
    parts.push(sub.includes(' and ') || sub.includes(' or ') ? `(${sub})` : sub);
  }
  let out = parts[0] ?? 'ip';
  for (let i = 1; i < parts.length; i++) out += ` ${int(r, 2) === 0 ? 'and' : 'or'} ${parts[i] ?? 'ip'}`;
  return int(r, 9) === 0 ? `not (${out})` : out;
}

export interface RandomExpression {
  dlt: number;
  expr: string;
}

/** `count` expressions, spread over every supported link type in turn; the same seed gives the same list. */
export function randomExpressions(seed: number, count: number): RandomExpression[] {
  const r = rng(seed);
  const out: RandomExpression[] = [];
  for (let i = 0; i < count; i++) {
    const dlt = SUPPORTED_LINKTYPES[i % SUPPORTED_LINKTYPES.length] ?? 1;
    out.push({ dlt, expr: expression(r, dlt, 1 + int(r, 2)) });
  }
  return out;
}
