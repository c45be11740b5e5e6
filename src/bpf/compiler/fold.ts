// Block-local constant folding and dead-code removal, for the optimizer.
// Values in A, X and the scratch words are tracked through each block:
// loads of known words become immediates, ALU operations on constants are
// computed, X operands that are constant become K operands, and a
// conditional jump on a constant A is decided (both edges to one target).
// Then, backwards, statements whose result nobody reads are removed
// (fold-sweep.ts).
import {
  BPF_ABS, BPF_ALU, BPF_AND, BPF_DIV, BPF_IMM, BPF_IND, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JMP, BPF_JSET, BPF_K, BPF_LD,
  BPF_LDX, BPF_LSH, BPF_MEM, BPF_MISC, BPF_MOD, BPF_MUL, BPF_NEG, BPF_RSH, BPF_ST, BPF_STX,
  BPF_RET, BPF_SUB, BPF_TAX, BPF_TXA, BPF_X, bpfClass, bpfMode, bpfOp, bpfSrc,
} from '../insn.js';
import type { Block, Stmt } from './block.js';
import { decidedByBits } from './fold-bits.js';
import { identity } from './fold-inert.js';
import { inertOf, inertQuietly, memoOf, readsMemory, type FoldMemo } from './fold-memo.js';
import { bit, mask, setStmts, sweep } from './fold-sweep.js';
import { alu, decideJump } from './bpf-eval.js';

type Val = number | null;

/**
 * A statement rewritten by folding, for the same clause. Only loads, ALU
 * operations, register moves and a block's own jump are rewritten, and they
 * carry nothing else (jump targets are on the jumps inside statement lists):
 * a plain literal, of the shape the code generator's statements have,
 * rather than a copy of every field.
 */
const rewrite = (s: Stmt, code: number, k: number): Stmt => ({ code, k, clause: s.clause });

// propagate()'s scratch words, known values only (an unknown one is as good
// as none): words 0-31 in a bit mask and an array kept between calls (no map
// per block; set afresh by each call), any other word in a map made on demand.
let memKnown = 0;
const memValue = new Float64Array(32);
let memFar: Map<number, Val> | null = null;

function memGet(k: number): Val {
  if (k >>> 0 >= 32) return memFar?.get(k) ?? null;
  return bit(k, memKnown) ? (memValue[k] ?? null) : null;
}

function memSet(k: number, v: Val): void {
  if (k >>> 0 >= 32) (memFar ??= new Map<number, Val>()).set(k, v);
  else if (v === null) memKnown &= ~mask(k);
  else {
    memValue[k] = v;
    memKnown |= mask(k);
  }
}

/** Forward pass: constant propagation, copy propagation through scratch words, folding. */
function propagate(b: Block, aLiveOut: boolean): void {
  let a: Val = null;
  let x: Val = null;
  // The scratch words' known values: see memGet/memSet.
  memKnown = 0;
  memFar = null;
  // Scratch words known to hold the same value as A (or X) right now.
  // As bit masks of word numbers (words ≥ 32 are never recorded: conservative).
  let aEq = 0;
  let xEq = 0;
  // The rewritten list, copied from the original only at the first change:
  // most blocks come out as they went in (then null).
  let out: Stmt[] | null = null;
  const stmts = b.stmts;
  for (let i = 0; i < stmts.length; i++) {
    const s0 = stmts[i];
    if (s0 === undefined) continue;
    let s = s0;
    const c = s.code;
    const cls = bpfClass(c);
    if (cls === BPF_LD) {
      const mode = bpfMode(c);
      if (mode === BPF_MEM && bit(s.k, aEq)) {
        out ??= stmts.slice(0, i);
        continue; // A already holds it
      }
      if (mode === BPF_MEM && bit(s.k, xEq) && memGet(s.k) === null) {
        // X holds the word: `txa` reads no memory, so the store feeding it may become dead.
        (out ??= stmts.slice(0, i)).push(rewrite(s, BPF_MISC | BPF_TXA, 0));
        a = x;
        aEq = xEq;
        continue;
      }
      if (mode === BPF_IND && x !== null && x + (s.k >>> 0) <= 0xffffffff) {
        s = rewrite(s, BPF_LD | BPF_ABS | (c & 0x18), x + (s.k >>> 0));
      }
      if (mode === BPF_IMM) a = s.k >>> 0;
      else if (mode === BPF_MEM) {
        const v = memGet(s.k);
        if (v !== null) s = rewrite(s, BPF_LD | BPF_IMM, v);
        a = v;
      } else a = null;
      aEq = mode === BPF_MEM ? mask(s0.k) : 0;
    } else if (cls === BPF_LDX) {
      const mode = bpfMode(c);
      if (mode === BPF_MEM && bit(s.k, xEq)) {
        out ??= stmts.slice(0, i);
        continue;
      }
      if (mode === BPF_MEM && bit(s.k, aEq) && memGet(s.k) === null) {
        // A holds the word (`st M[k]; ldx M[k]`): `tax` instead, as libpcap's optimizer does.
        (out ??= stmts.slice(0, i)).push(rewrite(s, BPF_MISC | BPF_TAX, 0));
        x = a;
        xEq = aEq;
        continue;
      }
      if (mode === BPF_IMM) x = s.k >>> 0;
      else if (mode === BPF_MEM) {
        const v = memGet(s.k);
        if (v !== null) s = rewrite(s, BPF_LDX | BPF_IMM, v);
        x = v;
      } else x = null;
      xEq = mode === BPF_MEM ? mask(s0.k) : 0;
    } else if (cls === BPF_ST) {
      memSet(s.k, a);
      aEq |= mask(s.k);
      xEq &= ~mask(s.k);
    } else if (cls === BPF_STX) {
      memSet(s.k, x);
      xEq |= mask(s.k);
      aEq &= ~mask(s.k);
    } else if (cls === BPF_ALU && bpfOp(c) !== BPF_NEG && (bpfSrc(c) === BPF_K ? identity(bpfOp(c), s.k >>> 0) : x !== null && identity(bpfOp(c), x))) {
      out ??= stmts.slice(0, i);
      continue; // A unchanged
    } else if (cls === BPF_ALU) {
      aEq = 0;
      const op = bpfOp(c);
      if (op === BPF_NEG) {
        if (a !== null) {
          a = -a >>> 0;
          s = rewrite(s, BPF_LD | BPF_IMM, a);
        }
      } else {
        if (bpfSrc(c) === BPF_X && x !== null && !((op === BPF_DIV || op === BPF_MOD) && x === 0)) {
          s = rewrite(s, BPF_ALU | op | BPF_K, x);
        }
        const kk = s.k >>> 0;
        const absorbing = bpfSrc(s.code) === BPF_K && (((op === BPF_AND || op === BPF_MUL) && kk === 0) || ((op === BPF_LSH || op === BPF_RSH) && kk >= 32));
        if (absorbing) {
          // The result does not depend on A.
          a = 0;
          s = rewrite(s, BPF_LD | BPF_IMM, 0);
        } else if (bpfSrc(s.code) === BPF_K && a !== null) {
          const v = alu(op, a, s.k >>> 0);
          if (v !== null) {
            a = v;
            s = rewrite(s, BPF_LD | BPF_IMM, v);
          } else a = null;
        } else a = null;
      }
    } else if (c === (BPF_MISC | BPF_TAX)) {
      x = a;
      xEq = aEq;
      if (a !== null) s = rewrite(s, BPF_LDX | BPF_IMM, a);
    } else if (c === (BPF_MISC | BPF_TXA)) {
      a = x;
      aEq = xEq;
      if (x !== null) s = rewrite(s, BPF_LD | BPF_IMM, x);
    }
    if (out !== null) out.push(s);
    else if (s !== s0) {
      out = stmts.slice(0, i);
      out.push(s);
    }
  }
  // After the jump rewrites: they may drop the last statement.
  if (decideJumpOf(b, out ?? stmts, a, x, aLiveOut)) {
    out ??= stmts.slice();
    out.pop();
  }
  if (out !== null) setStmts(b, out);
}

/**
 * The end of propagate(): fold the block's jump with what is known of A and
 * X at its end, given the block's statements `out`. True: the last statement
 * (a `sub`) went into the jump and is to be dropped.
 */
function decideJumpOf(b: Block, out: readonly Stmt[], a0: Val, x: Val, aLiveOut: boolean): boolean {
  let a = a0;
  let drop = false;
  const c = b.s.code;
  if (bpfClass(c) !== BPF_JMP || b.jt === null || b.jf === null) return false;
  if (bpfSrc(c) === BPF_X && x !== null) b.s = rewrite(b.s, (c & ~BPF_X) | BPF_K, x);
  // `sub #c; jeq #0` is `jeq #c`, and `sub x; jeq #0` is `jeq x` (libpcap
  // 1.10.3 compares that way), when no successor reads the difference left in A.
  // (The last statement read only when there is one: an index of -1 is a slow property lookup.)
  const last = !aLiveOut && b.s.code === (BPF_JMP | BPF_JEQ | BPF_K) && b.s.k === 0 && out.length > 0 ? out[out.length - 1] : undefined;
  if (last?.code === (BPF_ALU | BPF_SUB | BPF_K)) {
    drop = true;
    b.s = rewrite(b.s, b.s.code, last.k >>> 0);
    a = a === null ? null : (a + (last.k >>> 0)) >>> 0;
  } else if (last?.code === (BPF_ALU | BPF_SUB | BPF_X)) {
    drop = true;
    b.s = rewrite(b.s, BPF_JMP | BPF_JEQ | BPF_X, 0);
    a = null;
  }
  const op = bpfOp(b.s.code);
  const k = b.s.k >>> 0;
  const always = bpfSrc(b.s.code) !== BPF_K ? null : op === BPF_JSET && k === 0 ? false : op === BPF_JGE && k === 0 ? true : op === BPF_JGT && k === 0xffffffff ? false : null;
  if (always !== null) {
    const target = always ? b.jt : b.jf;
    b.jt = target;
    b.jf = target;
  } else if (bpfSrc(b.s.code) === BPF_K && a !== null) {
    const d = decideJump(bpfOp(b.s.code), a, b.s.k >>> 0);
    if (d !== null) {
      const target = d ? b.jt : b.jf;
      b.jt = target;
      b.jf = target;
    }
  }
  // What bits A can have (fold-bits.ts): `and #0x8; jeq #0x10`.
  const byBits = drop || b.jt === b.jf ? null : decidedByBits(b.s.code, b.s.k, out);
  if (byBits !== null) {
    const target = byBits ? b.jt : b.jf;
    b.jt = target;
    b.jf = target;
  }
  return drop;
}

/** Did a round of foldOnce() move an edge (decide a jump)? */
let edgesMoved = false;
/** Did the last foldBlocks() replace any block's statements or jump (optimize.ts: a pass that depends on them must run again)? */
export let foldTouched = false;

/**
 * Fold and sweep every block; `readsOnEntry` says which blocks need A/X
 * from before. True if any edge changed (a jump decided, or its branches
 * swapped): else the graph's order (opt-blocks.ts) is as it was.
 */
export function foldBlocks(blocks: readonly Block[], readsOnEntry: (b: Block) => boolean): boolean {
  edgesMoved = false;
  foldTouched = false;
  // Each sweep can expose more constants (a dead `ld #k; st M[i]` pair
  // hides an adjacent store/load), so go round a few times, until a round
  // leaves the graph's size (statements and undecided jumps) as it was.
  let before = -1;
  let untouched = false;
  for (let round = 0; round < 4; round++) {
    const after = foldOnce(blocks, readsOnEntry, round === 0);
    if (round === 0) {
      before = sizeBefore;
      untouched = opened === 0;
    }
    if (after === before) break;
    before = after;
  }
  let moved = edgesMoved;
  // A first round that skipped every block is the only one, and left them
  // as it saw them: with no `jeq #0` among them, no `and` becomes a `jset`.
  if (untouched && jeqZero === 0) return moved;
  for (const b of blocks) {
    if (andToJset(b, readsOnEntry)) {
      moved = true;
      foldTouched = true;
    }
  }
  return moved;
}

/** `and #m; jeq #0` with A dead afterwards is `jset #m` with the branches swapped. */
function andToJset(b: Block, readsOnEntry: (b: Block) => boolean): boolean {
  // The jump first: most blocks fail there, without a look at their statements.
  if (b.s.code !== (BPF_JMP | BPF_JEQ | BPF_K) || b.s.k !== 0) return false;
  const last = b.stmts.length > 0 ? b.stmts[b.stmts.length - 1] : undefined;
  if (last?.code !== (BPF_ALU | BPF_AND | BPF_K)) return false;
  if (b.jt === null || b.jf === null || b.jt === b.jf || readsOnEntry(b.jt) || readsOnEntry(b.jf)) return false;
  b.stmts = b.stmts.slice(0, -1);
  b.s = rewrite(b.s, BPF_JMP | BPF_JSET | BPF_K, last.k >>> 0);
  const t = b.jt;
  b.jt = b.jf;
  b.jf = t;
  return true;
}

/**
 * What propagate() and sweep() see of a block's successors: whether each is
 * there and whether they are one block (a decided jump), never which blocks
 * they are. So a block they left as it was stays so when threading only
 * moves its edges: 0 no jt, 1 no jf, 2 one successor, 3 two.
 */
function shape(b: Block): number {
  if (b.jt === null) return 0;
  if (b.jf === null) return 1;
  return b.jt === b.jf ? 2 : 3;
}

/** Is the block of a shape folding may leave as it is (two distinct successors, or a return)? */
function leavableShape(b: Block): boolean {
  const form = shape(b);
  return form === 3 || (form === 0 && bpfClass(b.s.code) === BPF_RET);
}

/** Does folding leave this block as it is, by its shape and statements alone (fold-inert.ts)? `m`: its record. */
function skips(b: Block, m: FoldMemo): boolean {
  return leavableShape(b) && inertOf(b, m);
}

/**
 * Does a folding leave this block as it is, and give andToJset() nothing
 * to look at (no `jeq #0`)? When every block of a graph does, foldBlocks()
 * changes nothing there: its one round skips them all. Notes nothing
 * (opt-quiet.ts asks it before a fold that may not run).
 */
export function foldLeaves(b: Block): boolean {
  const s = b.s;
  if (s.code === (BPF_JMP | BPF_JEQ | BPF_K) && s.k === 0) return false;
  return leavableShape(b) && inertQuietly(b, memoOf(b));
}

/** foldOnce()'s graph size before its round, when asked to measure it (a second result, without an object). */
let sizeBefore = 0;
/** How many blocks foldOnce()'s last round did not skip, and, when it measured, how many blocks it saw end in `jeq #0` (andToJset()'s jump). */
let opened = 0;
let jeqZero = 0;

/**
 * One round over every block; returns the graph's size after it (summed as
 * the sweep leaves each block). With `measure`, also the size before it, in
 * sizeBefore: each block's own part, just before propagate() changes it (it
 * changes nothing but its block), saving a walk of its own.
 */
function foldOnce(blocks: readonly Block[], readsOnEntry: (b: Block) => boolean, measure: boolean): number {
  // A block's propagate() and sweep() depend on nothing but the block (its
  // statement array and jump, never edited in place, and the shape of its
  // successors) and the flags passed in: where those are what they were when
  // the pass last left the block as it was, it would leave it as it is
  // again, so it is skipped. (A decided jump that propagate() would decide
  // again points both edges at the one successor they already share.)
  // A scratch word read in some block before that block writes it is kept
  // alive everywhere (libpcap's code shares words across blocks only in the
  // pflog prologue and protochain). Bit masks: words past 31 always count as
  // read. Gathered as propagate() leaves each block.
  let memRead = 0;
  let size = 0;
  // Blocks not skipped: with none (most rounds), the round changes nothing and the sweep has nothing to do.
  let open = 0;
  let zeros = 0;
  for (const b of blocks) {
    const { stmts, s, jt, jf } = b;
    const m = memoOf(b);
    if (measure) {
      size += stmts.length + (jt === jf ? 0 : 1);
      if (s.code === (BPF_JMP | BPF_JEQ | BPF_K) && s.k === 0) zeros++;
    }
    // Nothing to fold, and no scratch word read. Noted for the sweep below
    // (in `skip`): a block skipped here is left as it is until then.
    m.skip = skips(b, m);
    if (m.skip) continue;
    open++;
    const live = (jt !== null && readsOnEntry(jt)) || (jf !== null && readsOnEntry(jf));
    const form = shape(b);
    if (m.pmStmts !== stmts || m.pmS !== s || m.pmShape !== form || m.pmLive !== live) {
      propagate(b, live);
      if (b.stmts !== stmts || b.s !== s) foldTouched = true;
      if (b.jt !== jt || b.jf !== jf) edgesMoved = true;
      else if (b.stmts === stmts && b.s === s) {
        m.pmStmts = stmts;
        m.pmS = s;
        m.pmShape = form;
        m.pmLive = live;
      }
    }
    memRead |= readsMemory(b, m);
  }
  sizeBefore = size;
  opened = open;
  if (measure) jeqZero = zeros;
  if (open === 0 && measure) return size;
  // The sweep changes statements only, each block's own: its part of the size is final after it.
  size = 0;
  for (const b of blocks) {
    // A second read of its record: the sweep runs in few rounds (most skip every block).
    const m = memoOf(b);
    size += b.jt === b.jf ? 0 : 1;
    if (m.skip) {
      size += b.stmts.length;
      continue;
    }
    const live = (b.jt !== null && readsOnEntry(b.jt)) || (b.jf !== null && readsOnEntry(b.jf));
    const { stmts, s } = b;
    const form = shape(b);
    if (m.smStmts === stmts && m.smS === s && m.smShape === form && m.smLive === live && m.smMem === memRead) {
      size += stmts.length;
      continue;
    }
    sweep(b, live, live, memRead);
    size += b.stmts.length;
    if (b.stmts !== stmts || b.s !== s) foldTouched = true;
    else {
      m.smStmts = stmts;
      m.smS = s;
      m.smShape = form;
      m.smLive = live;
      m.smMem = memRead;
    }
  }
  return size;
}
