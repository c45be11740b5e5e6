// Identifiers after qualifiers: numbers, dotted IPv4 prefixes, IPv6
// addresses, MAC addresses and names (gencode.c gen_ncode, gen_mcode,
// gen_mcode6, gen_ecode, gen_scode). Error wording follows libpcap master.
import type { Node, Proto, Qual } from './ast.js';
import { genOr, type Block } from './block.js';
import { fail } from './errors.js';
import type { Gen } from './gen.js';
import { WLAN_DIRS, checkDir80211, genDnhost, genEther, genGateway, genHost, genHost6 } from './gen-host.js';
import { IPPROTO, genProto } from './gen-link.js';
import { genPortBoth, genPortrangeBoth, type PortProto } from './gen-port.js';
import { genProtochain } from './gen-protochain.js';
import { parseIPv6 } from './ipv6-text.js';
import { DLT } from './linktypes.js';
import { is80211 } from './gen-80211-prologue.js';
import { parseMac } from './names.js';
import { ownTable } from './own-table.js';

type IdNode = Extract<Node, { t: 'id' }>;


/**
 * libpcap's __pcap_atoin: "a[.b[.c[.d]]]" → value and length in bits. Each
 * part is one or more decimal digits worth at most 255; read by character
 * codes (every host and net address goes through here).
 */
function atoin(s: string): { v: number; len: number } {
  let v = 0;
  let parts = 0;
  let n = 0;
  let digits = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (digits === 0 || n > 255) fail(`invalid IPv4 address '${s}'`);
      v = ((v << 8) | n) >>> 0;
      parts++;
      n = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      n = n * 10 + (c - 0x30);
      digits++;
    } else {
      fail(`invalid IPv4 address '${s}'`);
    }
  }
  return { v, len: 8 * parts };
}

/** DECnet "area.node" (area 0-63, node 0-1023) → 16-bit address. */
function atodn(s: string): number {
  const m = /^(\d+)\.(\d+)$/.exec(s);
  const area = Number(m?.[1] ?? 'x');
  const node = Number(m?.[2] ?? 'x');
  if (m === null || area > 63 || node > 1023) fail(`invalid DECnet address '${s}'`);
  return (area << 10) | node;
}

function portProto(proto: Proto, kind: 'port' | 'portrange'): PortProto {
  switch (proto) {
    case 'udp': return IPPROTO.UDP;
    case 'tcp': return IPPROTO.TCP;
    case 'sctp': return IPPROTO.SCTP;
    case 'default': return -1;
    default: return fail(`'${proto}' is not a valid qualifier for '${kind}'`);
  }
}

function shl(v: number, n: number): number {
  return n >= 32 ? 0 : (v << n) >>> 0;
}

function addrWord(q: Qual): string {
  return q.addr === 'net' ? 'net' : 'host';
}

export function genId(g: Gen, n: IdNode): Block {
  const q = n.q;
  if (q.addr === 'undef') fail('syntax error in filter expression');
  if ((q.addr === 'port' || q.addr === 'portrange') && WLAN_DIRS.has(q.dir)) {
    fail(`'${q.dir}' is not a valid qualifier for '${q.addr}'`);
  }
  checkDir80211(g, q.dir);
  // On 802.11 these qualifiers take only MAC addresses (`wlan addr1 ...`):
  // refused before any name is looked up, as libpcap master does.
  if (WLAN_DIRS.has(q.dir) && q.proto !== 'link' && n.kind !== 'eid' && ['default', 'host', 'net'].includes(q.addr)) {
    fail(`'${q.dir}' is valid for 802.11 syntax only`);
  }
  switch (n.kind) {
    case 'num':
    case 'hid':
      return ncode(g, n.kind === 'hid' ? n.text : null, n.num, q);
    case 'hidlen':
    case 'hidmask':
      return mcode(g, n, q);
    case 'hid6':
    case 'hid6len':
      return mcode6(g, n, q);
    case 'eid':
      return ecode(g, n.text, q);
    case 'aid':
      if (q.proto === 'link' && (q.addr === 'host' || q.addr === 'default')) return fail(`'link host $XX' not supported on DLT_${g.linktypeLabel}`);
      return fail('ARCnet address used in non-arc expression');
    case 'name':
      return scode(g, n.text, q);
  }
}

function ncode(g: Gen, s: string | null, num: number, q: Qual): Block {
  let v = num;
  let vlen = 32;
  if (q.proto === 'decnet' && (q.addr === 'default' || q.addr === 'host')) {
    // libpcap master wants area.node; a bare number is refused.
    v = atodn(s ?? String(num));
    return genDnhost(g, v, q.dir);
  }
  if (q.proto === 'decnet' && q.addr === 'net') fail("'decnet' is not a valid qualifier for 'net'");
  if (s !== null) ({ v, len: vlen } = atoin(s));
  switch (q.addr) {
    case 'default':
    case 'host':
    case 'net': {
      if (q.proto === 'link') fail(`illegal link-layer address '${s ?? String(num)}'`);
      let mask = 0xffffffff;
      if (s === null && q.addr === 'net') {
        // Promote a short net number: `net 10` is 10.0.0.0/8.
        while (v !== 0 && (v & 0xff000000) === 0) {
          v = shl(v, 8);
          mask = shl(mask, 8);
        }
      } else {
        v = shl(v, 32 - vlen);
        mask = shl(mask, 32 - vlen);
      }
      return genHost(g, v, mask, q.proto, q.dir, `${addrWord(q)} <IPv4 address>`);
    }
    case 'port':
      return genPortBoth(g, v, portProto(q.proto, 'port'), q.dir);
    case 'portrange':
      return genPortrangeBoth(g, v, v, portProto(q.proto, 'portrange'), q.dir);
    case 'gateway':
      return fail(`'gateway' is not a valid qualifier for '${s ?? String(num)}'`);
    case 'proto':
      if (q.dir !== 'default') fail(`'${q.dir}' is not a valid qualifier for 'proto'`);
      return genProto(g, v, q.proto);
    case 'protochain':
      if (q.dir !== 'default') fail(`'${q.dir}' is not a valid qualifier for 'protochain'`);
      return genProtochain(g, v, q.proto);
    case 'undef':
      return fail('syntax error in filter expression');
  }
}

function mcode(g: Gen, n: IdNode, q: Qual): Block {
  const { v: v0, len: nlen } = atoin(n.text);
  const net = shl(v0, 32 - nlen);
  let m: number;
  const shown = n.kind === 'hidmask' ? `${n.text} mask ${n.text2}` : `${n.text}/${String(n.num)}`;
  if (n.kind === 'hidmask') {
    const mm = atoin(n.text2);
    m = shl(mm.v, 32 - mm.len);
  } else {
    if (n.num > 32) fail(`netmask length ${String(n.num)} greater than maximum 32`);
    m = n.num === 0 ? 0 : shl(0xffffffff, 32 - n.num);
  }
  if (q.addr !== 'net') fail(`'${q.addr === 'default' ? 'host' : q.addr}' is not a valid qualifier for '${shown}'`);
  if ((net & ~m) !== 0) fail(`non-network bits set in "${shown}"`);
  return genHost(g, net, m, q.proto, q.dir, 'net <IPv4 prefix>');
}

function mcode6(g: Gen, n: IdNode, q: Qual): Block {
  const addr = parseIPv6(n.text);
  if (addr === null) return fail(`invalid IPv6 address ${n.text}`);
  const masklen = n.kind === 'hid6len' ? n.num : 128;
  const shown = n.kind === 'hid6len' ? `${n.text}/${String(masklen)}` : n.text;
  if (masklen > 128) fail(`mask length must be <= 128`);
  const mask: number[] = [];
  for (let i = 0; i < 16; i++) {
    const bits = Math.max(0, Math.min(8, masklen - i * 8));
    mask.push((0xff00 >> bits) & 0xff);
  }
  if (addr.some((b, i) => (b & ~(mask[i] ?? 0)) !== 0)) fail(`non-network bits set in "${shown}"`);
  switch (q.addr) {
    case 'default':
    case 'host':
      if (masklen !== 128) fail(`'host' is not a valid qualifier for '${shown}'`);
      return genHost6(g, addr, mask, q.proto, q.dir, 'host <IPv6 address>');
    case 'net':
      return genHost6(g, addr, mask, q.proto, q.dir, 'net <IPv6 prefix>');
    default:
      return fail(`'${q.addr}' is not a valid qualifier for '${shown}'`);
  }
}

function ecode(g: Gen, text: string, q: Qual): Block {
  if ((q.addr === 'host' || q.addr === 'default') && q.proto === 'link') {
    const e = parseMac(text);
    if (e === null) return fail('invalid Ethernet address');
    return genEther(g, e, q.dir);
  }
  return fail('Ethernet address used in non-ether expression');
}

const ISO_PROTO: Readonly<Record<string, number>> = ownTable({ esis: 0x82, isis: 0x83, clnp: 0x81 });
const EPROTO: Record<string, number> = ownTable({
  aarp: 0x80f3, arp: 0x0806, atalk: 0x809b, decnet: 0x6003, ip: 0x0800, ip6: 0x86dd, lat: 0x6004,
  loopback: 0x9000, mopdl: 0x6001, moprc: 0x6002, rarp: 0x8035, sca: 0x6007,
  iso: 0xfe, stp: 0x42, ipx: 0xe0, netbeui: 0xf0,
});

function lookupProto(g: Gen, name: string, proto: Proto, kind: string): number {
  let v: number | undefined;
  if (proto === 'default' || proto === 'ip' || proto === 'ip6') v = g.names?.protocol(name);
  else if (proto === 'link') v = EPROTO[name];
  else if (proto === 'iso') v = ISO_PROTO[name];
  if (v === undefined) fail(`unknown '${proto === 'default' ? '' : `${proto} `}${kind}' value '${name}'`);
  return v;
}

/** pcap_nametoport: tcp, then udp; the same number on both means either. */
function nameToPort(g: Gen, name: string): { port: number; proto: PortProto } | null {
  const tcp = g.names?.service(name, 'tcp');
  const udp = g.names?.service(name, 'udp');
  if (tcp !== undefined) return { port: tcp, proto: udp === tcp ? -1 : IPPROTO.TCP };
  if (udp !== undefined) return { port: udp, proto: IPPROTO.UDP };
  if (/^\d+$/.test(name)) return { port: Number(name), proto: -1 };
  return null;
}

/** Port protocols by number, for refineProto's message (made once: it runs for every port). */
const PORT_PROTO_NAMES: Readonly<Record<number, string>> = { [IPPROTO.TCP]: 'tcp', [IPPROTO.UDP]: 'udp', [IPPROTO.SCTP]: 'sctp' };

function refineProto(name: string, want: PortProto, real: PortProto): PortProto {
  if (want < 0) return real;
  if (real >= 0 && real !== want) fail(`port '${name}' is ${PORT_PROTO_NAMES[real] ?? '?'}`);
  return want;
}

function scode(g: Gen, name: string, q: Qual): Block {
  switch (q.addr) {
    case 'net': {
      if (!['default', 'ip', 'arp', 'rarp'].includes(q.proto)) fail(`'${q.proto}' is not a valid qualifier for 'net <IPv4 network name>'`);
      let addr = g.names?.network(name) ?? 0;
      if (addr === 0) fail(`unknown network '${name}'`);
      let mask = 0xffffffff;
      while (addr !== 0 && (addr & 0xff000000) === 0) {
        addr = shl(addr, 8);
        mask = shl(mask, 8);
      }
      return genHost(g, addr, mask, q.proto, q.dir, 'net <IPv4 network name>');
    }
    case 'default':
    case 'host': {
      if (q.proto === 'link') {
        if (g.linktype !== DLT.EN10MB && !is80211(g.linktype)) fail(`'link host NAME' not supported on DLT_${g.linktypeLabel}`);
        const e = g.names?.ether(name);
        if (e === undefined) return fail(`unknown Ethernet-like host '${name}'`);
        return genEther(g, e, q.dir);
      }
      if (!['default', 'ip', 'arp', 'rarp', 'ip6'].includes(q.proto)) fail(`'${q.proto}' is not a valid qualifier for 'host <Internet hostname>'`);
      const found = g.names?.hosts(name) ?? { v4: [], v6: [] };
      let tproto: Proto = q.proto;
      let tproto6: Proto = q.proto;
      if (g.off.linktype.constant < 0 && tproto === 'default') {
        tproto = 'ip';
        tproto6 = 'ip6';
      }
      let b: Block | null = null;
      // getaddrinfo lists IPv6 first on a typical Linux resolver for
      // /etc/hosts names with both; libpcap ORs them in that order.
      for (const a6 of found.v6) {
        if (tproto6 !== 'default' && tproto6 !== 'ip6') continue;
        const tmp = genHost6(g, a6, new Array<number>(16).fill(0xff), tproto6, q.dir, 'host <Internet hostname>');
        if (b !== null) genOr(b, tmp);
        b = tmp;
      }
      for (const a4 of found.v4) {
        if (tproto === 'ip6') continue;
        const tmp = genHost(g, a4, 0xffffffff, tproto, q.dir, 'host <Internet hostname>');
        if (b !== null) genOr(b, tmp);
        b = tmp;
      }
      if (b === null) fail(`unknown host '${name}'${q.proto === 'default' ? '' : ' for specified address family'}`);
      return b;
    }
    case 'port': {
      const want = portProto(q.proto, 'port');
      const r = nameToPort(g, name);
      if (r === null) return fail(`unknown port '${name}'`);
      return genPortBoth(g, r.port, refineProto(name, want, r.proto), q.dir);
    }
    case 'portrange': {
      const want = portProto(q.proto, 'portrange');
      const m = /^(\d+)-(\d+)$/.exec(name);
      let p1: number;
      let p2: number;
      let real: PortProto = -1;
      if (m !== null) {
        p1 = Number(m[1]);
        p2 = Number(m[2]);
      } else {
        const dash = name.indexOf('-');
        if (dash < 0) fail(`unknown port in range '${name}'`);
        const a = nameToPort(g, name.slice(0, dash));
        const b = nameToPort(g, name.slice(dash + 1));
        if (a === null || b === null) return fail(`unknown port in range '${name}'`);
        p1 = a.port;
        p2 = b.port;
        real = a.proto === b.proto ? a.proto : -1;
      }
      return genPortrangeBoth(g, p1, p2, refineProto(name, want, real), q.dir);
    }
    case 'gateway': {
      if (!['default', 'ip', 'arp', 'rarp'].includes(q.proto)) fail(`'${q.proto}' is not a valid qualifier for 'gateway'`);
      if (g.labelStackDepth > 0) fail("'gateway' cannot be used within MPLS");
      if (g.isGeneve) fail("'gateway' cannot be used within VXLAN or Geneve");
      if (g.linktype !== DLT.EN10MB && !is80211(g.linktype)) fail(`'gateway' not supported on DLT_${g.linktypeLabel}`);
      const e = g.names?.ether(name);
      if (e === undefined) return fail(`unknown Ethernet-like host '${name}'`);
      const found = g.names?.hosts(name) ?? { v4: [], v6: [] };
      if (found.v4.length === 0) fail(`unknown host '${name}'`);
      return genGateway(g, e, found.v4, q.proto);
    }
    case 'proto':
      return genProto(g, lookupProto(g, name, q.proto, 'proto'), q.proto);
    case 'protochain':
      return genProtochain(g, lookupProto(g, name, q.proto, 'protochain'), q.proto);
    case 'undef':
      return fail('syntax error in filter expression');
  }
}
