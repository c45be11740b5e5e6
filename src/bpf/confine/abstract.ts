// The abstract values of the confinement checker, and the transfer function
// of every straight-line instruction. The jail's computed offsets (a header
// length read from the packet, rounded, added to) are described by the link
// layer as instructions too, and evaluated here with the same function, so
// the offsets the jail computes and the ones the checker expects are named
// identically by construction.
//
// A value is a constant, a masked packet load, an expression, or unknown.
// Loads and expressions are named by a key that is a deterministic function
// of the packet's bytes (and length): two values with the same key are equal
// on every run, which is all the checker needs to match facts to witnesses.
import { alu } from '../runtime/interpreter.js';
import type { Insn } from '../insn.js';

export type Sym =
  | { t: 'c'; v: number }
  /** (load(size, base + off) & mask); base '' is the start of the packet, else the key of X at the load. */
  | { t: 'l'; base: string; off: number; size: number; mask: number }
  | { t: 'e'; key: string }
  | { t: 'u' };

export const UNKNOWN: Sym = { t: 'u' };
export const FULL: Record<number, number> = { 4: 0xffffffff, 2: 0xffff, 1: 0xff };

/** The key of a value; undefined for unknown values (they match nothing). */
export function symKey(s: Sym): string | undefined {
  switch (s.t) {
    case 'c':
      return `#${String(s.v)}`;
    case 'l':
      return `[${s.base}+${String(s.off)}:${String(s.size)}&${String(s.mask)}]`;
    case 'e':
      return s.key;
    default:
      return undefined;
  }
}

/**
 * A load of `size` bytes at X + off. A constant X makes it an absolute load
 * (the interpreter checks X and off separately, so the sum never wraps: a
 * sum past 2^32 can only fail, and we then know nothing, which is sound).
 */
export function loadAt(X: Sym | undefined, off: number, size: number): Sym {
  const mask = FULL[size] ?? 0xffffffff;
  if (X === undefined) return { t: 'l', base: '', off, size, mask };
  if (X.t === 'c') return X.v + off <= 0xffffffff ? { t: 'l', base: '', off: X.v + off, size, mask } : UNKNOWN;
  const key = symKey(X);
  return key === undefined ? UNKNOWN : { t: 'l', base: key, off, size, mask };
}

export interface Regs {
  A: Sym;
  X: Sym;
  M: Sym[];
}

const expr = (op: string, ...args: Sym[]): Sym => {
  const keys = args.map(symKey);
  return keys.some((k) => k === undefined) ? UNKNOWN : { t: 'e', key: `(${op} ${keys.join(' ')})` };
};

/**
 * One straight-line instruction (not a jump, not a return) on `r`.
 * 'reject': the instruction ends the program with 0 on every packet.
 * undefined: not a straight-line instruction.
 */
export function step(ins: Insn, r: Regs): Regs | 'reject' | undefined {
  const k = ins.k >>> 0;
  const code = ins.code;
  switch (code) {
    case 0x20:
    case 0x28:
    case 0x30:
      return { ...r, A: loadAt(undefined, k, code === 0x20 ? 4 : code === 0x28 ? 2 : 1) };
    case 0x40:
    case 0x48:
    case 0x50:
      return { ...r, A: loadAt(r.X, k, code === 0x40 ? 4 : code === 0x48 ? 2 : 1) };
    case 0x80:
      return { ...r, A: { t: 'e', key: 'len' } };
    case 0x81:
      return { ...r, X: { t: 'e', key: 'len' } };
    case 0xb1:
      return { ...r, X: { t: 'e', key: `(msh ${String(k)})` } };
    case 0x00:
      return { ...r, A: { t: 'c', v: k } };
    case 0x01:
      return { ...r, X: { t: 'c', v: k } };
    case 0x60:
      return { ...r, A: k < 16 ? (r.M[k] ?? UNKNOWN) : UNKNOWN };
    case 0x61:
      return { ...r, X: k < 16 ? (r.M[k] ?? UNKNOWN) : UNKNOWN };
    case 0x02:
    case 0x03: {
      if (k >= 16) return r; // bpf_validate refuses it; loads from there are unknown anyway
      const M = [...r.M];
      M[k] = code === 0x02 ? r.A : r.X;
      return { ...r, M };
    }
    case 0x07:
      return { ...r, X: r.A };
    case 0x87:
      return { ...r, A: r.X };
    default:
      break;
  }
  if ((code & 0x07) !== 0x04) return undefined;
  if (code === 0x84) return { ...r, A: r.A.t === 'c' ? { t: 'c', v: (-r.A.v) >>> 0 } : expr('neg', r.A) };
  const operand: Sym = (code & 0x08) !== 0 ? r.X : { t: 'c', v: k };
  if (r.A.t === 'c' && operand.t === 'c') {
    const v = alu(code, r.A.v, operand.v);
    return v === undefined ? 'reject' : { ...r, A: { t: 'c', v } };
  }
  // A masked load stays a load, so branches on it still pin packet bits.
  if (r.A.t === 'l' && operand.t === 'c' && (code & 0xf0) === 0x50) return { ...r, A: { ...r.A, mask: (r.A.mask & operand.v) >>> 0 } };
  return { ...r, A: expr(`alu${String(code & 0xf0)}`, r.A, operand) };
}
