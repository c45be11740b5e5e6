// Arithmetic expressions and relations (gencode.c gen_loadi, gen_loadlen,
// gen_load, gen_arth, gen_neg, gen_relation, as in libpcap 1.10.3): every
// value lives in a scratch register; protocol checks needed by `proto[...]`
// are collected and AND'ed in front of the comparison.
import {
  BPF_ADD, BPF_ALU, BPF_B, BPF_DIV, BPF_H, BPF_IMM, BPF_IND, BPF_JEQ, BPF_JMP, BPF_LD, BPF_LDX, BPF_LEN, BPF_LSH, BPF_MEM,
  BPF_MISC, BPF_MOD, BPF_NEG, BPF_RSH, BPF_ST, BPF_SUB, BPF_TAX, BPF_W, BPF_X,
} from '../insn.js';
import type { Arth, Proto } from './ast.js';
import { genAnd, genNot, jmp, type Block, type Stmt } from './block.js';
import { fail } from './errors.js';
import type { Gen } from './gen.js';
import { genIpfrag, genProtoAbbrev } from './gen-link.js';
import { DLT } from './linktypes.js';

interface Val {
  s: Stmt[];
  regno: number;
  b: Block | null;
  /** What `b` checks, a bit per protocol whose checks are AND'ed in (`ip`, `tcp` for TCP's checks…, checkBit): see mergeChecks. */
  checks: number;
}

const xferToX = (g: Gen, a: Val): Stmt => g.stmt(BPF_LDX | BPF_MEM, a.regno);
const xferToA = (g: Gen, a: Val): Stmt => g.stmt(BPF_LD | BPF_MEM, a.regno);

function loadi(g: Gen, v: number): Val {
  const reg = g.allocReg();
  return { s: [g.stmt(BPF_LD | BPF_IMM, v), g.stmt(BPF_ST, reg)], regno: reg, b: null, checks: 0 };
}

function loadlen(g: Gen): Val {
  const reg = g.allocReg();
  return { s: [g.stmt(BPF_LD | BPF_LEN), g.stmt(BPF_ST, reg)], regno: reg, b: null, checks: 0 };
}

const NETWORK_PROTOS = new Set<Proto>(['ip', 'arp', 'rarp', 'atalk', 'decnet', 'sca', 'lat', 'moprc', 'mopdl', 'ip6']);
const TRANSPORT_PROTOS = new Set<Proto>(['sctp', 'tcp', 'udp', 'icmp', 'igmp', 'igrp', 'pim', 'vrrp', 'carp']);
/** One bit per protocol whose `proto[...]` ANDs in checks (Val.checks): the two sets above and icmp6 (20 in all). */
const CHECK_BITS = new Map<Proto, number>([...NETWORK_PROTOS, ...TRANSPORT_PROTOS, 'icmp6' as Proto].map((p, i) => [p, 1 << i]));
const checkBit = (p: Proto): number => CHECK_BITS.get(p) ?? 0;

function load(g: Gen, proto: Proto, inst: Val, size: number): Val {
  const regno = g.allocReg();
  g.freeReg(inst.regno);
  const sz = size === 1 ? BPF_B : size === 2 ? BPF_H : size === 4 ? BPF_W : fail('data size must be 1, 2, or 4');
  const o = g.off;
  const indexed = (var0: Stmt[] | null, k: number): Stmt[] => {
    let s: Stmt[];
    if (var0 !== null) {
      s = var0;
      s.push(xferToA(g, inst), g.stmt(BPF_ALU | BPF_ADD | BPF_X), g.stmt(BPF_MISC | BPF_TAX));
    } else {
      s = [xferToX(g, inst)];
    }
    s.push(g.stmt(BPF_LD | BPF_IND | sz, k));
    return s;
  };
  if (proto === 'link') {
    inst.s.push(...indexed(g.absOffsetVarpart(o.linkhdr), o.linkhdr.constant));
  } else if (NETWORK_PROTOS.has(proto)) {
    inst.s.push(...indexed(g.absOffsetVarpart(o.linkpl), o.linkpl.constant + o.nl));
    const b = genProtoAbbrev(g, proto);
    if (inst.b !== null) genAnd(inst.b, b);
    inst.b = b;
    inst.checks |= checkBit(proto);
  } else if (TRANSPORT_PROTOS.has(proto)) {
    const s = g.loadxIphdrlen();
    s.push(xferToA(g, inst), g.stmt(BPF_ALU | BPF_ADD | BPF_X), g.stmt(BPF_MISC | BPF_TAX));
    s.push(g.stmt(BPF_LD | BPF_IND | sz, o.linkpl.constant + o.nl));
    inst.s.push(...s);
    // Only for the first fragment of an IPv4 datagram of that protocol.
    const b = genIpfrag(g);
    genAnd(genProtoAbbrev(g, proto), b);
    if (inst.b !== null) genAnd(inst.b, b);
    genAnd(genProtoAbbrev(g, 'ip'), b);
    inst.b = b;
    inst.checks |= checkBit(proto);
  } else if (proto === 'icmp6') {
    let b = genProtoAbbrev(g, 'ip6');
    if (inst.b !== null) genAnd(inst.b, b);
    inst.b = b;
    b = g.cmp('linkpl', 6, BPF_B, 58);
    genAnd(inst.b, b);
    inst.b = b;
    inst.s.push(...indexed(g.absOffsetVarpart(o.linkpl), o.linkpl.constant + o.nl + 40));
    inst.checks |= checkBit(proto);
  } else if (proto === 'radio' && [DLT.PRISM_HEADER, DLT.IEEE802_11_RADIO, DLT.IEEE802_11_RADIO_AVS].includes(g.linktype as 127)) {
    // radio[i]: relative to the start of the packet, i.e. of the radio header.
    inst.s.push(...indexed(null, 0));
  } else if (proto === 'radio' && (g.linktype === DLT.IEEE802_11 || g.linktype === DLT.PPI)) {
    fail('radio information not present in capture');
  } else {
    fail(`'${proto}' does not support the index operation`);
  }
  inst.regno = regno;
  inst.s.push(g.stmt(BPF_ST, regno));
  return inst;
}

function arth(g: Gen, code: number, a0: Val, a1: Val): Val {
  const first = a1.s[0];
  const constK = first?.code === (BPF_LD | BPF_IMM) ? first.k : undefined;
  if (code === BPF_DIV && constK === 0) fail('division by zero');
  if (code === BPF_MOD && constK === 0) fail('modulus by zero');
  if ((code === BPF_LSH || code === BPF_RSH) && constK !== undefined && constK > 31) fail('shift by more than 31 bits');
  const s0 = xferToX(g, a1);
  const s1 = xferToA(g, a0);
  const s2 = g.stmt(BPF_ALU | BPF_X | code);
  a0.s.push(...a1.s, s0, s1, s2);
  g.freeReg(a0.regno);
  g.freeReg(a1.regno);
  a0.regno = g.allocReg();
  a0.s.push(g.stmt(BPF_ST, a0.regno));
  a0.b = mergeChecks(a0, a1);
  a0.checks |= a1.checks;
  return a0;
}

/**
 * Both operands' protocol checks, AND'ed (the departure from libpcap, which
 * drops the right operand's: index.ts). Where every check of the right one
 * is one the left makes already (`ip[2:2] - ((ip[0]&0xf)<<2)`: `ip` twice),
 * they would test the same bytes of the same packet again, so it goes, as
 * libpcap's program has it: on the 802.11 link types, whose programs are not
 * optimized (the link header's computation jumps inside a statement list),
 * nothing else would drop the second copy of the 9-instruction IPv4 check.
 */
function mergeChecks(a0: Val, a1: Val): Block | null {
  const b0 = a0.b;
  const b1 = a1.b;
  if (b0 !== null && b1 !== null) {
    if ((a1.checks & ~a0.checks) === 0) return b0;
    genAnd(b0, b1);
    return b1;
  }
  return b0 ?? b1;
}

function neg(g: Gen, a: Val): Val {
  a.s.push(xferToA(g, a), g.stmt(BPF_ALU | BPF_NEG, 0), g.stmt(BPF_ST, a.regno));
  return a;
}

function evalArth(g: Gen, e: Arth): Val {
  switch (e.t) {
    case 'num':
      return loadi(g, e.v);
    case 'len':
      return loadlen(g);
    case 'load':
      return load(g, e.proto, evalArth(g, e.index), e.size);
    case 'bin': {
      const a0 = evalArth(g, e.l);
      const a1 = evalArth(g, e.r);
      return arth(g, e.op, a0, a1);
    }
    case 'neg':
      return neg(g, evalArth(g, e.e));
  }
}

export function genRelation(g: Gen, code: number, l: Arth, r: Arth, reversed: boolean): Block {
  const a0 = evalArth(g, l);
  const a1 = evalArth(g, r);
  return relation(g, code, a0, a1, reversed);
}

/**
 * `link[0] == 0` (negated if `reversed`): SLIP's direction test as libpcap's
 * gen_inbound builds it, the right operand first (gcc evaluates the call's
 * arguments right to left, which fixes the register numbers).
 */
export function genLinkByteIsZero(g: Gen, reversed: boolean): Block {
  const a1 = loadi(g, 0);
  const a0 = load(g, 'link', loadi(g, 0), 1);
  return relation(g, BPF_JEQ, a0, a1, reversed);
}

function relation(g: Gen, code: number, a0: Val, a1: Val, reversed: boolean): Block {
  const s0 = xferToX(g, a1);
  const s1 = xferToA(g, a0);
  let b: Block;
  const tail: Stmt[] = [s0, s1];
  if (code === BPF_JEQ) {
    // libpcap 1.10.3 compares equality as `sub x; jeq #0`.
    tail.push(g.stmt(BPF_ALU | BPF_SUB | BPF_X));
    b = g.block(jmp(code), 0);
  } else {
    b = g.block(BPF_JMP | code | BPF_X, 0);
  }
  if (reversed) genNot(b);
  b.stmts = [...a0.s, ...a1.s, ...tail];
  g.freeReg(a0.regno);
  g.freeReg(a1.regno);
  const checks = mergeChecks(a0, a1);
  if (checks !== null) genAnd(checks, b);
  return b;
}

