// The backward half of block-local folding (fold.ts): statements whose
// result nobody reads are removed, except those that can end the program:
// a packet load out of bounds and a division by a zero X both reject the
// packet, so they always stay.
import { BPF_ABS, BPF_ALU, BPF_IND, BPF_JMP, BPF_LD, BPF_LDX, BPF_MEM, BPF_MISC, BPF_RET, BPF_ST, BPF_STX, BPF_TAX, BPF_TXA, BPF_X, bpfClass, bpfMode, bpfSrc } from '../insn.js';
import type { Block, Stmt } from './block.js';
import { canFail } from './opt-blocks.js';

/**
 * Replace a block's statements only if they changed: the optimizer memoizes
 * facts per statement array (opt-blocks.ts), and most rounds change nothing.
 */
export function setStmts(b: Block, next: Stmt[]): void {
  const cur = b.stmts;
  if (next.length === cur.length) {
    let i = 0;
    while (i < cur.length && next[i] === cur[i]) i++;
    if (i === cur.length) return;
  }
  b.stmts = next;
}

/** The bit for scratch word k in a mask, 0 for words past 31. */
export const mask = (k: number): number => (k >>> 0 < 32 ? 1 << k : 0);
export const bit = (k: number, m: number): boolean => (mask(k) & m) !== 0;

function sizeOf(code: number): number {
  const sz = code & 0x18;
  return sz === 0x10 ? 1 : sz === 0x08 ? 2 : 4;
}

/** The end of an absolute packet load's bytes, -1 for any other statement. */
function endOf(st: Stmt): number {
  return bpfClass(st.code) === BPF_LD && bpfMode(st.code) === BPF_ABS ? (st.k >>> 0) + sizeOf(st.code) : -1;
}

/**
 * Does another absolute load of this straight-line block reach at least as
 * far as stmts[i] (then stmts[i] is not the one that fails; ties go to the later one)?
 */
export function covered(stmts: readonly Stmt[], i: number): boolean {
  const s = stmts[i];
  const mine = s === undefined ? -1 : endOf(s);
  for (let j = 0; j < stmts.length; j++) {
    const t = stmts[j];
    if (j === i || t === undefined) continue;
    const e = endOf(t);
    if (e > mine || (e === mine && j > i)) return true;
  }
  return false;
}

/**
 * Can stmts[i] end the program, so that it stays though its value is dead?
 * A packet load cannot be the one that fails when another absolute load in
 * this straight-line block reaches at least as far (failure is all-or-nothing here).
 */
function failsAt(stmts: readonly Stmt[], i: number): boolean {
  const s = stmts[i];
  if (s === undefined || !canFail(s)) return false;
  return !(bpfClass(s.code) === BPF_LD && bpfMode(s.code) === BPF_ABS && covered(stmts, i));
}

/** Backward pass: drop statements whose results are never read. */
export function sweep(b: Block, aLiveOut: boolean, xLiveOut: boolean, memLiveOut: number): void {
  const decided = b.jt !== null && b.jt === b.jf;
  const t = b.s.code;
  let aLive = aLiveOut;
  let xLive = xLiveOut;
  if (bpfClass(t) === BPF_JMP && !decided) {
    aLive = true;
    if (bpfSrc(t) === BPF_X) xLive = true;
  } else if (bpfClass(t) === BPF_RET) {
    if ((t & 0x18) === 0x10) aLive = true;
    if ((t & 0x18) === BPF_X) xLive = true;
  }
  // Live scratch words as a mask; a word past 31 is always live (its store always stays).
  let mem = memLiveOut;
  // Kept statements, last first; made at the first one dropped (null: all kept so far).
  let kept: Stmt[] | null = null;
  for (let i = b.stmts.length - 1; i >= 0; i--) {
    const s = b.stmts[i];
    if (s === undefined) continue;
    const c = s.code;
    const cls = bpfClass(c);
    // Whether it can fail is only asked where its value is dead (covered() walks the whole block).
    let keep = true;
    if (cls === BPF_LD) {
      const mode = bpfMode(c);
      keep = aLive || failsAt(b.stmts, i);
      aLive = false;
      if (keep && mode === BPF_MEM) mem |= mask(s.k);
      if (keep && mode === BPF_IND) xLive = true;
    } else if (cls === BPF_LDX) {
      keep = xLive || failsAt(b.stmts, i);
      xLive = false;
      if (keep && bpfMode(c) === BPF_MEM) mem |= mask(s.k);
    } else if (cls === BPF_ST || cls === BPF_STX) {
      keep = s.k >>> 0 >= 32 || bit(s.k, mem);
      mem &= ~mask(s.k);
      if (keep) {
        if (cls === BPF_ST) aLive = true;
        else xLive = true;
      }
    } else if (cls === BPF_ALU) {
      keep = aLive || failsAt(b.stmts, i);
      if (keep) {
        aLive = true;
        if (bpfSrc(c) === BPF_X) xLive = true;
      }
    } else if (c === (BPF_MISC | BPF_TAX)) {
      keep = xLive;
      xLive = false;
      if (keep) aLive = true;
    } else if (c === (BPF_MISC | BPF_TXA)) {
      keep = aLive;
      aLive = false;
      if (keep) xLive = true;
    }
    if (kept !== null) {
      if (keep) kept.push(s);
    } else if (!keep) kept = b.stmts.slice(i + 1).reverse();
  }
  // Nothing dropped: the very same statements (setStmts would keep the array).
  if (kept !== null) setStmts(b, kept.reverse());
}

