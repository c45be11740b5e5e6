// What jump threading (opt-thread.ts) keys its facts by: the value a block
// tests, as a value number (opt-values.ts) worked out from the block's own
// statements, with A and X unknown on entry and stable scratch words
// (opt-stable.ts) standing for the value their one store put there. Two
// blocks that compute one value differently get one key: `st M[0]; tax;
// ldb [x + 0]` in the entry block and `ldx M[0]; ldb [x + 0]` later, which
// libpcap's optimizer also finds equal (value numbering, optimize.c).
//
// A block's `whole` key says the block may be skipped where its test is
// decided: it stores nothing, and every statement that can end the program
// (a packet load, an `ldxb`, a division by X) is part of the tested value,
// so a path on which that value was tested already made each of them succeed.
import { BPF_ABS, BPF_ALU, BPF_B, BPF_DIV, BPF_IMM, BPF_IND, BPF_JMP, BPF_LD, BPF_LDX, BPF_LEN, BPF_MEM, BPF_MISC, BPF_MOD, BPF_MSH, BPF_NEG, BPF_ST, BPF_STX, BPF_TAX, BPF_TXA, BPF_X, bpfClass, bpfMode, bpfOp, bpfSrc } from '../insn.js';
import type { Block, Stmt } from './block.js';
import { aluValue, loadMax } from './opt-redundant.js';
import { konst, madeOf, value } from './opt-values.js';

/** The operation of a stable word's value where its store is not straight-line. */
const STABLE = -3;
/** Unknown (no value is numbered 0). */
const NONE = 0;

/** Per scratch word 0-15: its value wherever it is stable (NONE: not stable), for this optimizer run. */
const stableValue = new Int32Array(16);

/** run()'s scratch words for a storing block (setStableValues). */
const storeMem = new Int32Array(16);

/**
 * Work out the stable words' values for this run: each the value its one
 * store leaves (the storing block run from unknown registers), or a value
 * of its own where that block is not straight-line or stores an unknown.
 * `storers`: the blocks that store the words of `mask`, in the graph's
 * order (opt-stable.ts stableStorers): a store only ever feeds a later one.
 */
export function setStableValues(storers: readonly Block[], mask: number): void {
  // No stable word, and none in the last run either: every word is unknown
  // already (blockKeys leaves `scratch` so where no word is stable).
  if (mask === 0 && !anyStable) return;
  // Loops, not fill() or set(): a builtin call costs more than these 16 stores, on every compile.
  for (let k = 0; k < 16; k++) {
    stableValue[k] = NONE;
    scratch[k] = NONE;
  }
  anyStable = mask !== 0;
  if (mask === 0) return;
  for (let k = 0; k < 16; k++) if (((mask >>> k) & 1) === 1) stableValue[k] = value(STABLE, k, 0, 0xffffffff);
  const mem = storeMem;
  for (const b of storers) {
    let stores = 0;
    for (const s of b.stmts) {
      const cls = bpfClass(s.code);
      if ((cls === BPF_ST || cls === BPF_STX) && s.k >>> 0 < 16) stores |= 1 << s.k;
    }
    if ((stores & mask) === 0) continue;
    for (let k = 0; k < 16; k++) mem[k] = stableValue[k] ?? NONE;
    if (!run(b.stmts, mem)) continue;
    for (let k = 0; k < 16; k++) if (((stores & mask) >>> k) & 1 && (mem[k] ?? NONE) !== NONE) stableValue[k] = mem[k] ?? NONE;
  }
}

// What run() found, in module variables (it runs for every block of every
// compile: no object per call): the tested value (A), whether the
// statements store, and the values of those that can end the program.
let runA = NONE;
let runStores = false;
let fails = new Int32Array(16);
let failCount = 0;

function failed(v: number): void {
  if (failCount === fails.length) {
    const more = new Int32Array(fails.length * 2);
    more.set(fails);
    fails = more;
  }
  fails[failCount++] = v;
}

/**
 * Run straight-line statements on value numbers from unknown A and X, the
 * scratch words as in `mem` (changed in place), into runA, runStores and
 * fails. False for a statement list with jumps of its own.
 */
function run(stmts: readonly Stmt[], mem: Int32Array): boolean {
  let a = NONE;
  let x = NONE;
  runStores = false;
  failCount = 0;
  for (const s of stmts) {
    const c = s.code;
    const cls = bpfClass(c);
    const mode = bpfMode(c);
    if (cls === BPF_LD || cls === BPF_LDX) {
      let v = NONE;
      if (mode === BPF_IMM) v = konst(s.k);
      else if (mode === BPF_MEM) v = s.k >>> 0 < 16 ? (mem[s.k] ?? NONE) : NONE;
      else if (mode === BPF_LEN) v = value(BPF_LD | BPF_LEN, 0, 0, 0xffffffff);
      else if (mode === BPF_ABS) v = value(c, s.k | 0, 0, loadMax(c));
      else if (mode === BPF_MSH) v = value(c, s.k | 0, 0, 60);
      else if (mode === BPF_IND) v = x === NONE ? NONE : value(c, s.k | 0, x, loadMax(c));
      if (mode === BPF_ABS || mode === BPF_IND || mode === BPF_MSH) failed(v);
      if (cls === BPF_LD) a = v;
      else x = v;
    } else if (cls === BPF_ST || cls === BPF_STX) {
      runStores = true;
      if (s.k >>> 0 < 16) mem[s.k] = cls === BPF_ST ? a : x;
    } else if (c === (BPF_MISC | BPF_TAX)) x = a;
    else if (c === (BPF_MISC | BPF_TXA)) a = x;
    else if (cls === BPF_ALU) {
      const op = bpfOp(c);
      const byX = bpfSrc(c) === BPF_X;
      if (a === NONE || (byX && x === NONE && op !== BPF_NEG)) a = NONE;
      else if (op === BPF_NEG) a = value(c, a, 0, 0xffffffff);
      else if (!byX && (op === BPF_DIV || op === BPF_MOD) && s.k >>> 0 === 0) a = NONE;
      else {
        a = aluValue(op, a, byX ? x : konst(s.k));
        if (byX && (op === BPF_DIV || op === BPF_MOD)) failed(a);
      }
    } else if (cls === BPF_JMP) return false;
  }
  runA = a;
  return true;
}

/** The scratch words as a block's run changes them; all unknown between runs where no word is stable. */
const scratch = new Int32Array(16);
let anyStable = false;

/**
 * The value of the commonest statement lists, a packet load alone (`ldh
 * [12]`, `ldxb 4*([14]&0xf); ldh [x + 16]`), as run() numbers it (the same
 * values, made in the same order); NONE for any other list. Its block's
 * test and whole key, where A is tested: both loads are part of it.
 */
export function loadKey(stmts: readonly Stmt[]): number {
  const n = stmts.length;
  const last = n === 1 || n === 2 ? stmts[n - 1] : undefined;
  if (last === undefined || bpfClass(last.code) !== BPF_LD) return NONE;
  const mode = bpfMode(last.code);
  if (n === 1) return mode === BPF_ABS ? value(last.code, last.k | 0, 0, loadMax(last.code)) : NONE;
  const first = stmts[0];
  if (first?.code !== (BPF_LDX | BPF_B | BPF_MSH) || mode !== BPF_IND) return NONE;
  const x = value(first.code, first.k | 0, 0, 60);
  return value(last.code, last.k | 0, x, loadMax(last.code));
}

/** The whole key blockKeys() found: its test key, or null where the block may not be skipped (a second result, without an object). */
export let wholeKey: number | null = null;

/** A block's test key, the value its jump tests (null: unknown); its whole key in wholeKey. */
export function blockKeys(b: Block): number | null {
  const stmts = b.stmts;
  // The commonest blocks, a packet load alone: its own test and whole key.
  const load = loadKey(stmts);
  if (load !== NONE) {
    wholeKey = load;
    return load;
  }
  // The words as their one store left them: copied only where a word is stable, else all unknown
  // (and put back to unknown after a block that stored into the scratch copy).
  if (anyStable) scratch.set(stableValue);
  wholeKey = null;
  const ok = run(stmts, scratch);
  if (!anyStable && runStores) scratch.fill(NONE);
  if (!ok || runA === NONE) return null;
  const a = runA;
  if (runStores) return a;
  for (let i = 0; i < failCount; i++) {
    const f = fails[i] ?? NONE;
    if (f === NONE || !madeOf(a, f)) return a;
  }
  wholeKey = a;
  return a;
}
