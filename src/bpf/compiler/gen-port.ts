// Port and port-range tests (gencode.c gen_port/gen_portop/gen_port6 and the
// portrange variants). IPv4 checks the protocol and that the packet is the
// first fragment; IPv6 checks only the next-header field.
import { BPF_B, BPF_H } from '../insn.js';
import type { Dir } from './ast.js';
import { genAnd, genOr, type Block } from './block.js';
import { fail } from './errors.js';
import type { Gen } from './gen.js';
import { checkDir80211 } from './gen-host.js';
import { ETHERTYPE, IPPROTO, genIpfrag, genLinktype } from './gen-link.js';

/** -1: any of tcp, udp, sctp (libpcap's PROTO_UNDEF). */
export type PortProto = number;

type Atom = (off: number) => Block;

function byDir(g: Gen, dir: Dir, atom: Atom): Block {
  switch (dir) {
    case 'src':
      return atom(0);
    case 'dst':
      return atom(2);
    case 'and': {
      const tmp = atom(0);
      const b1 = atom(2);
      genAnd(tmp, b1);
      return b1;
    }
    case 'default':
    case 'or': {
      const tmp = atom(0);
      const b1 = atom(2);
      genOr(tmp, b1);
      return b1;
    }
    default:
      checkDir80211(g, dir);
      return fail(`'${dir}' is not a valid qualifier for 'port'`);
  }
}

function portop(g: Gen, proto: number, dir: Dir, atom: Atom): Block {
  const tmp = g.cmp('linkpl', 9, BPF_B, proto);
  const b0 = genIpfrag(g);
  genAnd(tmp, b0);
  const b1 = byDir(g, dir, atom);
  genAnd(b0, b1);
  return b1;
}

function portop6(g: Gen, proto: number, dir: Dir, atom: Atom): Block {
  const b0 = g.cmp('linkpl', 6, BPF_B, proto);
  const b1 = byDir(g, dir, atom);
  genAnd(b0, b1);
  return b1;
}

function anyProto(ipProto: PortProto, one: (p: number) => Block): Block {
  if (ipProto >= 0) return one(ipProto);
  const tmp = one(IPPROTO.TCP);
  const b1 = one(IPPROTO.UDP);
  genOr(tmp, b1);
  const t2 = one(IPPROTO.SCTP);
  genOr(t2, b1);
  return b1;
}

function v4(g: Gen, ipProto: PortProto, dir: Dir, atom: Atom): Block {
  const b0 = genLinktype(g, ETHERTYPE.IP);
  const b1 = anyProto(ipProto, (p) => portop(g, p, dir, atom));
  genAnd(b0, b1);
  return b1;
}

function v6(g: Gen, ipProto: PortProto, dir: Dir, atom: Atom): Block {
  const b0 = genLinktype(g, ETHERTYPE.IPV6);
  const b1 = anyProto(ipProto, (p) => portop6(g, p, dir, atom));
  genAnd(b0, b1);
  return b1;
}

/** `port N`: the IPv4 test OR'ed after the IPv6 one, as libpcap orders them. */
export function genPortBoth(g: Gen, port: number, ipProto: PortProto, dir: Dir): Block {
  checkDir80211(g, dir);
  if (port > 65535) fail(`port number ${String(port)} greater than maximum 65535`);
  const b = v4(g, ipProto, dir, (off) => g.cmp('tran_ipv4', off, BPF_H, port));
  genOr(v6(g, ipProto, dir, (off) => g.cmp('tran_ipv6', off, BPF_H, port)), b);
  return b;
}

export function genPortrangeBoth(g: Gen, p1: number, p2: number, ipProto: PortProto, dir: Dir): Block {
  checkDir80211(g, dir);
  if (p1 > 65535) fail(`port number ${String(p1)} greater than maximum 65535`);
  if (p2 > 65535) fail(`port number ${String(p2)} greater than maximum 65535`);
  const lo = Math.min(p1, p2);
  const hi = Math.max(p1, p2);
  const range = (rel: 'tran_ipv4' | 'tran_ipv6') => (off: number): Block => {
    const b1 = g.cmpGe(rel, off, BPF_H, lo);
    const b2 = g.cmpLe(rel, off, BPF_H, hi);
    genAnd(b1, b2);
    return b2;
  };
  const b = v4(g, ipProto, dir, range('tran_ipv4'));
  genOr(v6(g, ipProto, dir, range('tran_ipv6')), b);
  return b;
}

/** gen_port: the IPv4 half of `port`, for one protocol (Geneve's UDP test). */
export function genPort4(g: Gen, port: number, ipProto: PortProto, dir: Dir): Block {
  return v4(g, ipProto, dir, (off) => g.cmp('tran_ipv4', off, BPF_H, port));
}

/** gen_port6: the IPv6 half. */
export function genPort6(g: Gen, port: number, ipProto: PortProto, dir: Dir): Block {
  return v6(g, ipProto, dir, (off) => g.cmp('tran_ipv6', off, BPF_H, port));
}
