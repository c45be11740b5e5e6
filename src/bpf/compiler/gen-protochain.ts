// `protochain N` (gencode.c gen_protochain): walk the IPv6 extension-header
// chain and IPv4/IPv6 AH headers inside one block, with a backward `ja` to
// loop. Programs using it are never optimized (libpcap sets no_optimize) and
// Linux's validator refuses them (backward jump); libpcap's interpreter runs
// them, and so does ours.
import { BPF_ADD, BPF_ALU, BPF_B, BPF_IMM, BPF_IND, BPF_JA, BPF_JEQ, BPF_JMP, BPF_K, BPF_LD, BPF_LDX, BPF_MEM, BPF_MISC, BPF_MSH, BPF_MUL, BPF_ST, BPF_TAX, BPF_TXA, BPF_X } from '../insn.js';
import type { Proto } from './ast.js';
import { genAnd, genOr, jmp, type Block, type Stmt } from './block.js';
import { fail } from './errors.js';
import type { Gen } from './gen.js';
import { ETHERTYPE, genLinktype } from './gen-link.js';

export function genProtochain(g: Gen, v: number, proto: Proto): Block {
  // libpcap allocates the scratch register before looking at the protocol,
  // and the `default` path never frees it; mirrored so registers match.
  const reg2 = g.allocReg();
  if (proto === 'default') {
    const b0 = genProtochain(g, v, 'ip');
    const b = genProtochain(g, v, 'ip6');
    genOr(b0, b);
    return b;
  }
  if (proto !== 'ip' && proto !== 'ip6') return fail(`'${proto}' is not a valid qualifier for 'protochain'`);
  if (v > 255) fail(`protocol number ${String(v)} greater than maximum 255`);
  if (g.off.linkpl.isVariable) fail("'protochain' not supported with variable length headers");
  g.noOptimize = true;
  const base = g.off.linkpl.constant + g.off.nl;
  const s: Stmt[] = [];
  const add = (code: number, k = 0): Stmt => {
    const st = g.stmt(code, k);
    s.push(st);
    return st;
  };
  const b0 = genLinktype(g, proto === 'ip' ? ETHERTYPE.IP : ETHERTYPE.IPV6);
  if (proto === 'ip') {
    add(BPF_LD | BPF_ABS_B, base + 9);
    add(BPF_LDX | BPF_MSH | BPF_B, base);
  } else {
    add(BPF_LD | BPF_ABS_B, base + 6);
    add(BPF_LDX | BPF_IMM, 40);
  }
  const again = add(jmp(BPF_JEQ), v);
  const none = add(jmp(BPF_JEQ), 59); // IPPROTO_NONE
  const ahchainJumps: Stmt[] = [];
  const nexts: Stmt[] = [again, none];
  if (proto === 'ip6') {
    const ext = [0, 60, 43, 44].map((k) => add(jmp(BPF_JEQ), k)); // hop-by-hop, dstopts, routing, fragment
    const advance = add(BPF_LD | BPF_IND | BPF_B, base);
    for (let i = 0; i < ext.length; i++) {
      const e = ext[i];
      if (e === undefined) continue;
      e.jtStmt = advance;
      e.jfStmt = i + 1 < ext.length ? ext[i + 1] : undefined;
      if (i + 1 === ext.length) ahchainJumps.push(e);
    }
    none.jfStmt = ext[0];
    add(BPF_ST, reg2);
    add(BPF_LD | BPF_IND | BPF_B, base + 1);
    add(BPF_ALU | BPF_ADD | BPF_K, 1);
    add(BPF_ALU | BPF_MUL | BPF_K, 8);
    add(BPF_ALU | BPF_ADD | BPF_X);
    add(BPF_MISC | BPF_TAX);
    add(BPF_LD | BPF_MEM, reg2);
    const ja = add(BPF_JMP | BPF_JA);
    ja.target = again;
  } else {
    const nop = add(BPF_ALU | BPF_ADD | BPF_K, 0);
    none.jfStmt = nop;
  }
  // AH: next header at [x], length in 32-bit words minus 2 at [x + 1].
  const ah = add(jmp(BPF_JEQ), 51);
  for (const j of ahchainJumps) j.jfStmt = ah;
  const first = add(BPF_MISC | BPF_TXA);
  ah.jtStmt = first;
  add(BPF_LD | BPF_IND | BPF_B, base);
  add(BPF_ST, reg2);
  add(BPF_MISC | BPF_TXA);
  add(BPF_ALU | BPF_ADD | BPF_K, 1);
  add(BPF_MISC | BPF_TAX);
  add(BPF_LD | BPF_IND | BPF_B, base);
  add(BPF_ALU | BPF_ADD | BPF_K, 2);
  add(BPF_ALU | BPF_MUL | BPF_K, 4);
  add(BPF_MISC | BPF_TAX);
  add(BPF_LD | BPF_MEM, reg2);
  const ja2 = add(BPF_JMP | BPF_JA);
  ja2.target = again;
  const end = add(BPF_ALU | BPF_ADD | BPF_K, 0);
  again.jtStmt = end;
  none.jtStmt = end;
  ah.jfStmt = end;
  // Fall-through edges of the in-block compares.
  for (const st of [again, ...nexts.slice(1)]) {
    if (st.jfStmt === undefined) st.jfStmt = s[s.indexOf(st) + 1];
  }
  const b = g.block(jmp(BPF_JEQ), v, s);
  g.freeReg(reg2);
  genAnd(b0, b);
  return b;
}

const BPF_ABS_B = 0x20 | BPF_B;
