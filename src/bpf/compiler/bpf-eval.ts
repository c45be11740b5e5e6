// The BPF machine's arithmetic and conditional jumps on known values, as
// bpf_filter(3) computes them (unsigned 32 bits; division by zero has no
// value): what the optimizer's folding, value numbering and jump facts
// compute at compile time.
import {
  BPF_ADD, BPF_AND, BPF_DIV, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JSET, BPF_LSH, BPF_MOD, BPF_MUL, BPF_OR, BPF_RSH, BPF_SUB, BPF_XOR,
} from '../insn.js';

/** The ALU operation op on unsigned a and b, as the BPF machine does it (null: division by zero or no such operation). */
export function alu(op: number, a: number, b: number): number | null {
  switch (op) {
    case BPF_ADD: return (a + b) >>> 0;
    case BPF_SUB: return (a - b) >>> 0;
    case BPF_MUL: return Math.imul(a, b) >>> 0;
    case BPF_DIV: return b === 0 ? null : Math.floor(a / b) >>> 0;
    case BPF_MOD: return b === 0 ? null : (a % b) >>> 0;
    case BPF_AND: return (a & b) >>> 0;
    case BPF_OR: return (a | b) >>> 0;
    case BPF_XOR: return (a ^ b) >>> 0;
    case BPF_LSH: return b >= 32 ? 0 : (a << b) >>> 0;
    case BPF_RSH: return b >= 32 ? 0 : a >>> b;
    default: return null;
  }
}

/** The conditional jump op on unsigned A and k: taken, not taken, or null (no such jump). */
export function decideJump(op: number, a: number, k: number): boolean | null {
  switch (op) {
    case BPF_JEQ: return a === k;
    case BPF_JGT: return a > k;
    case BPF_JGE: return a >= k;
    case BPF_JSET: return (a & k) !== 0;
    default: return null;
  }
}
