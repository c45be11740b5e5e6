// `geneve [VNI]` (gencode.c gen_geneve and friends, RFC 8926): UDP to port
// 6081, Geneve version 0, optionally the VNI; then, as for vlan/mpls/pppoes,
// everything after it in the expression is about the encapsulated frame.
// Its offsets are only known at run time (the Geneve header has options of
// variable length, and the payload may be Ethernet or a bare EtherType
// payload), so they are computed into scratch registers when the Geneve
// test matches, and every later load goes through them.
import { BPF_ADD, BPF_ALU, BPF_AND, BPF_B, BPF_H, BPF_IMM, BPF_IND, BPF_JEQ, BPF_JMP, BPF_K, BPF_LD, BPF_LDX, BPF_MEM, BPF_MISC, BPF_MUL, BPF_ST, BPF_STX, BPF_TAX, BPF_TXA, BPF_W, BPF_X } from '../insn.js';
import { genAnd, genNot, genOr, jmp, type Block, type Stmt } from './block.js';
import { fail } from './errors.js';
import type { Gen, OffRel } from './gen.js';
import { IPPROTO } from './gen-link.js';
import { genPort4, genPort6 } from './gen-port.js';
import { DLT } from './linktypes.js';

const GENEVE_PORT = 6081;
const ETHERTYPE_TEB = 0x6558; // Transparent Ethernet Bridging: the payload is an Ethernet frame

/**
 * UDP to `udpPort`, the encapsulation's own header test, and the VNI if
 * given: Geneve's and VXLAN's VNI are both the upper 24 bits of the
 * header's second word (RFC 8926 §3.4, RFC 7348 §5).
 */
export function udpEncapCheck(
  g: Gen, port: (g: Gen, port: number, proto: number, dir: 'dst') => Block, rel: OffRel, vni: number | null,
  udpPort: number, header: (g: Gen, rel: OffRel) => Block,
): Block {
  let b0 = port(g, udpPort, IPPROTO.UDP, 'dst');
  const b1 = header(g, rel);
  genAnd(b0, b1);
  b0 = b1;
  if (vni !== null) {
    const b2 = g.mcmp(rel, 12, BPF_W, (vni << 8) >>> 0, 0xffffff00);
    genAnd(b0, b2);
    b0 = b2;
  }
  return b0;
}

/** UDP to the Geneve port, version 0 (RFC 8926 §3.4), and the VNI if given. */
const check: EncapCheck = (g, port, rel, vni) => udpEncapCheck(g, port, rel, vni, GENEVE_PORT, () => g.mcmp(rel, 8, BPF_B, 0, 0xc0));

export type EncapCheck = (g: Gen, port: (g: Gen, port: number, proto: number, dir: 'dst') => Block, rel: OffRel, vni: number | null) => Block;

/** The IPv4 test, leaving the IPv4 header length (+ variable link prefix) in A. Geneve's and VXLAN's. */
function encap4(g: Gen, vni: number | null, test: EncapCheck): Block {
  const b0 = test(g, genPort4, 'tran_ipv4', vni);
  const s = g.loadxIphdrlen();
  s.push(g.stmt(BPF_MISC | BPF_TXA));
  // `jeq x` right after `txa` always holds: a way to attach statements.
  const b1 = g.block(BPF_JMP | BPF_JEQ | BPF_X, 0, s);
  genAnd(b0, b1);
  return b1;
}

/** The IPv6 test, leaving 40 (+ variable link prefix) in A and X. Geneve's and VXLAN's. */
function encap6(g: Gen, vni: number | null, test: EncapCheck): Block {
  const b0 = test(g, genPort6, 'tran_ipv6', vni);
  let s = g.absOffsetVarpart(g.off.linkpl);
  if (s !== null) s.push(g.stmt(BPF_LD | BPF_IMM, 40), g.stmt(BPF_ALU | BPF_ADD | BPF_X));
  else s = [g.stmt(BPF_LD | BPF_IMM, 40)];
  s.push(g.stmt(BPF_MISC | BPF_TAX));
  const b1 = g.block(BPF_JMP | BPF_JEQ | BPF_X, 0, s);
  genAnd(b0, b1);
  return b1;
}

/**
 * With the IP header length in A: store the offsets of the inner
 * EtherType, of the inner link header and of the inner payload. The
 * payload is an Ethernet frame when the Geneve protocol type is TEB;
 * otherwise the protocol type itself is the EtherType of what follows.
 */
function offsets(g: Gen): Stmt[] {
  const o = g.off;
  const s: Stmt[] = [];
  const add = (code: number, k = 0): Stmt => {
    const st = g.stmt(code, k);
    s.push(st);
    return st;
  };
  add(BPF_ALU | BPF_ADD | BPF_K, o.linkpl.constant + o.nl + 8); // the UDP header
  add(BPF_MISC | BPF_TAX);
  add(BPF_ALU | BPF_ADD | BPF_K, 2);
  const linktypeReg = g.allocReg();
  o.linktype = { constant: 0, isVariable: true, reg: linktypeReg };
  add(BPF_ST, linktypeReg);
  // Options length, in 4-byte words, in the low 6 bits of the first byte.
  add(BPF_LD | BPF_IND | BPF_B, 0);
  add(BPF_ALU | BPF_AND | BPF_K, 0x3f);
  add(BPF_ALU | BPF_MUL | BPF_K, 4);
  add(BPF_ALU | BPF_ADD | BPF_K, 8);
  add(BPF_ALU | BPF_ADD | BPF_X);
  // What follows is treated as Ethernet: its type field is an EtherType
  // either way, and the Ethernet-only tests check at run time that there
  // is a MAC header (geneveLinkCheck).
  g.pushLinkhdr(DLT.EN10MB, true, 0, g.allocReg());
  add(BPF_ST, g.off.linkhdr.reg);
  g.noOptimize = true;
  add(BPF_LD | BPF_IND | BPF_H, 2);
  add(BPF_LDX | BPF_MEM, g.off.linkhdr.reg);
  const isTeb = add(jmp(BPF_JEQ), ETHERTYPE_TEB);
  isTeb.jtStmt = add(BPF_MISC | BPF_TXA);
  add(BPF_ALU | BPF_ADD | BPF_K, 12);
  add(BPF_ST, linktypeReg);
  add(BPF_ALU | BPF_ADD | BPF_K, 2);
  add(BPF_MISC | BPF_TAX);
  const linkplReg = g.allocReg();
  o.linkpl = { constant: 0, isVariable: true, reg: linkplReg };
  isTeb.jfStmt = add(BPF_STX, linkplReg);
  o.nl = 0;
  return s;
}

/**
 * An encapsulation over UDP (gen_geneve, gen_vxlan): its IPv4 or IPv6 test,
 * then, on an always-true block run when it matched, the statements that
 * store the inner frame's offsets; what follows is about the inner frame.
 */
export function genUdpEncap(g: Gen, name: string, vni: number | null, test: EncapCheck, inner: (g: Gen) => Stmt[]): Block {
  if (vni !== null && vni > 0xffffff) fail(`${name} VNI ${String(vni)} greater than maximum 16777215`);
  const b0 = encap4(g, vni, test);
  const b1 = encap6(g, vni, test);
  genOr(b0, b1);
  const s = inner(g);
  const t = g.genTrue();
  t.stmts = [...s, ...t.stmts];
  genAnd(b1, t);
  g.isGeneve = true;
  return t;
}

export function genGeneve(g: Gen, vni: number | null): Block {
  return genUdpEncap(g, 'Geneve', vni, check, offsets);
}

/**
 * gen_geneve_ll_check (master: gen_encap_ll_check): inside Geneve or VXLAN, an Ethernet-only test (MAC
 * addresses, broadcast, multicast) needs an inner MAC header, that is, a
 * link header that does not start where the payload does.
 */
export function geneveLinkCheck(g: Gen): Block {
  const s = [g.stmt(BPF_LD | BPF_MEM, g.off.linkhdr.reg), g.stmt(BPF_LDX | BPF_MEM, g.off.linkpl.reg)];
  const b = g.block(BPF_JMP | BPF_JEQ | BPF_X, 0, s);
  genNot(b);
  return b;
}

/** gen_prevlinkhdr_check: the extra test an encapsulated link header needs (Geneve's, VXLAN's), if any. */
export function prevLinkhdrCheck(g: Gen): Block | null {
  return g.isGeneve ? geneveLinkCheck(g) : null;
}
