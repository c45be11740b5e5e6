// Tests that the bits A can have decide (fold.ts): after `ldb [x]; and #0x8`
// A is 0 or 8, so `jeq #0x10` never holds (`tcp[tcpflags] & tcp-push ==
// tcp-ack`), nor `jset #0x10`, nor `jgt #8`. Folding decides such a jump
// and keeps the statements, so a load that falls off the packet still ends
// the program (rejecting, as the unoptimized program does); a block whose
// ways out then all reject becomes the one `ret #0` (opt-merge.ts).
import {
  BPF_ABS, BPF_ALU, BPF_AND, BPF_B, BPF_H, BPF_IMM, BPF_IND, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JMP, BPF_JSET, BPF_K, BPF_LD, BPF_LDX,
  BPF_LSH, BPF_MISC, BPF_MSH, BPF_OR, BPF_RSH, BPF_TAX, BPF_TXA, bpfClass, bpfMode, bpfOp, bpfSize, bpfSrc,
} from '../insn.js';
import { beyondOn, usedBeyond } from './beyond-libpcap.js';
import type { Stmt } from './block.js';

const ALL = 0xffffffff;

/** The bits a load of this opcode can set. */
function loadBits(code: number): number {
  const sz = bpfSize(code);
  return sz === BPF_B ? 0xff : sz === BPF_H ? 0xffff : ALL;
}

/**
 * The bits A may have set after the statements, A and X unknown on entry
 * (all bits); all bits for a list with jumps of its own.
 */
export function aBits(stmts: readonly Stmt[]): number {
  let a = ALL;
  let x = ALL;
  for (const s of stmts) {
    const c = s.code;
    const cls = bpfClass(c);
    const k = s.k >>> 0;
    if (cls === BPF_LD) {
      const mode = bpfMode(c);
      a = mode === BPF_IMM ? k : mode === BPF_ABS || mode === BPF_IND ? loadBits(c) : ALL;
    } else if (cls === BPF_LDX) {
      const mode = bpfMode(c);
      // `ldxb 4*([k]&0xf)`: a multiple of 4 up to 60.
      x = mode === BPF_IMM ? k : mode === BPF_MSH ? 0x3c : ALL;
    } else if (cls === BPF_ALU) {
      const op = bpfOp(c);
      const v = bpfSrc(c) === BPF_K ? k : x;
      if (op === BPF_AND) a = (a & v) >>> 0;
      else if (op === BPF_OR) a = (a | v) >>> 0;
      else if (op === BPF_LSH && bpfSrc(c) === BPF_K) a = k >= 32 ? 0 : (a << k) >>> 0;
      else if (op === BPF_RSH && bpfSrc(c) === BPF_K) a = k >= 32 ? 0 : a >>> k;
      else a = ALL;
    } else if (c === (BPF_MISC | BPF_TAX)) x = a;
    else if (c === (BPF_MISC | BPF_TXA)) a = x;
    else if (cls === BPF_JMP) return ALL;
  }
  return a;
}

/** The outcome of `op #k` on an A whose set bits are among `bits`, when they decide it (else null). */
export function decideByBits(op: number, k: number, bits: number): boolean | null {
  if (bits === ALL) return null;
  // A is at most `bits` (its bits are among them).
  switch (op) {
    case BPF_JEQ: return (k & ~bits) !== 0 ? false : null;
    case BPF_JSET: return (k & bits) === 0 ? false : null;
    case BPF_JGT: return k >= bits ? false : null;
    case BPF_JGE: return k > bits ? false : null;
    default: return null;
  }
}

/**
 * decidedByBits() for a block whose one statement is the packet load of
 * opcode `load` (fold-inert.ts's commonest block, `ldh [12]; jeq #0x800`):
 * A has the load's bits, without a walk. `note`: a decision is noted as
 * reasoning beyond libpcap's (false: only asked, nothing decided yet).
 */
export function decidedAfterLoad(code: number, k: number, load: number, note = true): boolean | null {
  if (!beyondOn()) return null;
  const d = decideByBits(bpfOp(code), k >>> 0, loadBits(load));
  if (d !== null && note) usedBeyond();
  return d;
}

/** A test on k that the bits of A at the end of `stmts` decide (JMP K only), or null; `note` as decidedAfterLoad's. */
export function decidedByBits(code: number, k: number, stmts: readonly Stmt[], note = true): boolean | null {
  if (!beyondOn() || bpfClass(code) !== BPF_JMP || bpfSrc(code) !== BPF_K || stmts.length === 0) return null;
  const d = decideByBits(bpfOp(code), k >>> 0, aBits(stmts));
  if (d !== null && note) usedBeyond();
  return d;
}
