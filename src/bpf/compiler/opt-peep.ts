// A peephole of the optimizer for the code `tcp[k]` / `icmp[k]` and the like
// compile to: the transport header offset is `4*([14]&0xf)` plus a constant,
// computed as `ld #c; ldxb 4*([14]&0xf); add x; tax` before `ld [x + n]`.
// When X is not read afterwards (other than by those loads), the constant
// goes into the loads instead: `ldxb 4*([14]&0xf); ld [x + (n + c)]`.
// libpcap's optimizer makes the same simplification (optimize.c, opt_peep).
//
// Same semantics, bounds included: X after `ldxb` is at most 60, so with
// c + n + 64 < 2^32 neither X + c nor the load address wraps, and
// (X + c) + n and X + (c + n) are the same address for the length check.
// X may also come from a scratch word (`ldx M[2]`, pflog's header length,
// stored once as `(ldb [0] + 3) & ~3`): its bound is the word's, as the
// redundant pass left it on entry to the block (opt-redundant.ts), or as a
// store in the block set it; and an `ldx` of any kind may stand between
// `ld #c` and `add x` (`ld #6; ldx M[2]; add x; tax; ldh [x + 0]`).
import { BPF_ABS, BPF_ALU, BPF_ADD, BPF_B, BPF_IMM, BPF_IND, BPF_JMP, BPF_LD, BPF_LDX, BPF_MEM, BPF_MISC, BPF_MSH, BPF_RET, BPF_ST, BPF_STX, BPF_TAX, BPF_X, bpfClass, bpfMode, bpfOp, bpfSrc } from '../insn.js';
import type { Block, Stmt } from './block.js';
import { aluBound, loadMax } from './opt-redundant.js';

const LD_IMM = BPF_LD | BPF_IMM;
const LDX_MSH = BPF_LDX | BPF_MSH | BPF_B;
const ADD_X = BPF_ALU | BPF_ADD | BPF_X;
const TAX = BPF_MISC | BPF_TAX;

const isIndLoad = (s: Stmt | undefined): boolean => s !== undefined && bpfClass(s.code) === BPF_LD && bpfMode(s.code) === BPF_IND;

/** Does the statement read X (other than as an indexed load's base)? */
function readsX(s: Stmt): boolean {
  const c = s.code;
  const cls = bpfClass(c);
  if (cls === BPF_ALU || cls === BPF_JMP) return bpfSrc(c) === BPF_X;
  if (cls === 0x03) return true; // stx
  if (cls === BPF_RET) return (c & 0x18) === BPF_X;
  return c === (BPF_MISC | 0x80); // txa
}

const writesX = (s: Stmt): boolean => bpfClass(s.code) === BPF_LDX || s.code === TAX;

/**
 * Apply the peephole to one block. `xLiveOut`: may a later block read X
 * before setting it? `xEntry`: the largest value X can hold on entry.
 */
export function foldIndexBase(b: Block, xLiveOut: boolean, xEntry: number, words: WordBounds = noWords): boolean {
  // Run on every block of every compile, and most have no `add x; tax`:
  // look for one before copying anything. Statement lists with jumps of
  // their own (protochain) are not straight-line: leave them.
  const list = b.stmts;
  let candidate = false;
  for (let i = 0; i < list.length; i++) {
    const code = list[i]?.code ?? 0;
    if (bpfClass(code) === BPF_JMP) return false;
    if (code === ADD_X && list[i + 1]?.code === TAX) candidate = true;
  }
  if (!candidate) return false;
  // Work on a copy: statement arrays are never changed in place (the optimizer memoizes their keys).
  const s = [...list];
  let changed = false;
  for (let i = 1; i + 2 < s.length; i++) {
    if (s[i]?.code !== ADD_X || s[i + 1]?.code !== TAX || !isIndLoad(s[i + 2])) continue;
    // Back: only loads of X (any number: they leave A as `ld #c` set it) between `ld #c` and `add x`.
    let j = i - 1;
    while (j >= 0 && bpfClass(s[j]?.code ?? 0) === BPF_LDX) j--;
    const ld = s[j];
    if (j < 0 || ld?.code !== LD_IMM) continue;
    // X's bound at `add x`, as the statements before leave it.
    const xMax = xBoundAt(s, i, xEntry, b, words);
    const c = ld.k >>> 0;
    // Forward: X is read only by indexed loads until it is set again (or the block ends with X dead).
    const loads: number[] = [];
    let ok = true;
    let redefined = false;
    for (let m = i + 2; m < s.length && ok; m++) {
      const st = s[m];
      if (st === undefined) break;
      if (isIndLoad(st)) {
        if (c + (st.k >>> 0) + xMax >= 0x100000000) ok = false;
        else loads.push(m);
      } else if (readsX(st)) ok = false;
      else if (writesX(st)) {
        redefined = true;
        break;
      }
    }
    if (!ok) continue;
    if (!redefined && (xLiveOut || readsX(b.s))) continue;
    for (const m of loads) {
      const st = s[m];
      // An indexed load carries nothing but its code, k and clause.
      if (st !== undefined) s[m] = { code: st.code, k: (st.k >>> 0) + c, clause: st.clause };
    }
    // Drop `ld #c`, `add x`, `tax` (highest index first).
    s.splice(i, 2);
    s.splice(j, 1);
    changed = true;
    i = Math.max(0, j - 1);
  }
  if (changed) b.stmts = s;
  return changed;
}

/**
 * An upper bound of X before stmts[end], X being at most `xEntry` on entry:
 * the bounds of A and X followed through loads, constants, moves and ALU
 * operations with a constant (anything else: unbounded).
 */
function xBoundAt(stmts: readonly Stmt[], end: number, xEntry: number, b: Block, words: WordBounds): number {
  const MAX = 0xffffffff;
  let a = MAX;
  let x = xEntry;
  // The words stored in the block so far, as a mask, and their bounds.
  let stored = 0;
  for (let m = 0; m < end; m++) {
    const st = stmts[m];
    if (st === undefined) continue;
    const c = st.code;
    const cls = bpfClass(c);
    const mode = bpfMode(c);
    const k = st.k >>> 0;
    if (cls === BPF_LD) a = mode === BPF_IMM ? k : mode === BPF_ABS || mode === BPF_IND ? loadMax(c) : mode === BPF_MEM ? wordBound(b, k, stored, words) : MAX;
    else if (cls === BPF_LDX) x = mode === BPF_IMM ? k : c === LDX_MSH ? 60 : mode === BPF_MEM ? wordBound(b, k, stored, words) : MAX;
    else if ((cls === BPF_ST || cls === BPF_STX) && k < 16) {
      stored |= 1 << k;
      storedMax[k] = cls === BPF_ST ? a : x;
    } else if (c === TAX) x = a;
    else if (c === (BPF_MISC | 0x80)) a = x;
    else if (cls === BPF_ALU) a = bpfSrc(c) === BPF_X ? aluBound(bpfOp(c), a, x, null) : aluBound(bpfOp(c), a, st.k >>> 0, st.k >>> 0);
  }
  return x;
}

/** The bounds of the scratch words on entry to a block: word k's on entry to b is `bound(b, k)` (0xffffffff: none known). */
export type WordBounds = (b: Block, k: number) => number;
const noWords: WordBounds = () => 0xffffffff;

/** xBoundAt's own: the bounds of the words stored in the block so far. */
const storedMax = new Float64Array(16);

/** Word k's bound: as a store in the block left it, else as it was on entry. */
function wordBound(b: Block, k: number, stored: number, words: WordBounds): number {
  if (k >= 16) return 0xffffffff;
  return ((stored >>> k) & 1) === 1 ? (storedMax[k] ?? 0xffffffff) : words(b, k);
}

/** Per block id: may X be read, from entry, before it is set (1)? */
let xLiveIn = new Uint8Array(64);

/** Make room for an optimizer run on a graph whose block ids are below `ids`. */
export function peepStart(ids: number): void {
  if (xLiveIn.length < ids) xLiveIn = new Uint8Array(Math.max(ids, 2 * xLiveIn.length));
}

/** Does the block read X before setting it (its jump or return included)? */
function readsXFirst(b: Block): boolean {
  for (const st of b.stmts) {
    if (readsX(st) || isIndLoad(st)) return true;
    if (writesX(st)) return false;
  }
  return readsX(b.s);
}

function setsX(b: Block): boolean {
  for (const st of b.stmts) if (writesX(st)) return true;
  return false;
}

/** Is there an `add x; tax` among the statements (else the peephole leaves their block as it is)? */
export function addsToX(list: readonly Stmt[]): boolean {
  for (let i = 0; i + 1 < list.length; i++) if (list[i]?.code === ADD_X && list[i + 1]?.code === TAX) return true;
  return false;
}

/**
 * The peephole over the graph whose order is `blocks`, with X's bound on
 * entry to each from `xEntry`
 * (opt-redundant.ts). X's liveness is worked out over the whole graph, as
 * a value of X may be read blocks after the one that set it.
 */
export function peephole(blocks: readonly Block[], xEntry: (b: Block) => number, wordEntry: WordBounds = noWords): boolean {
  let changed = false;
  // Most graphs have no `add x; tax` at all: look before working out liveness.
  let any = false;
  for (const b of blocks) {
    if (addsToX(b.stmts)) {
      any = true;
      break;
    }
  }
  if (!any) return false;
  for (let i = blocks.length - 1; i >= 0; i--) {
    const b = blocks[i];
    if (b === undefined) continue;
    const out = (b.jt !== null && xLiveIn[b.jt.id] === 1) || (b.jf !== null && xLiveIn[b.jf.id] === 1);
    if (foldIndexBase(b, out, xEntry(b), wordEntry)) changed = true;
    xLiveIn[b.id] = readsXFirst(b) || (out && !setsX(b)) ? 1 : 0;
  }
  return changed;
}
