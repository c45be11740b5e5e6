// Block-local constant folding and dead-code removal, for the optimizer.
// Values in A, X and the scratch words are tracked through each block:
// loads of known words become immediates, ALU operations on constants are
// computed, X operands that are constant become K operands, and a
// conditional jump on a constant A is decided (both edges to one target).
// Then, backwards, statements whose result nobody reads are removed
// (fold-sweep.ts).
import {
  BPF_ABS, BPF_ADD, BPF_ALU, BPF_AND, BPF_DIV, BPF_IMM, BPF_IND, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JMP, BPF_JSET, BPF_K, BPF_LD,
  BPF_LDX, BPF_LSH, BPF_MEM, BPF_MISC, BPF_MOD, BPF_MUL, BPF_NEG, BPF_OR, BPF_RSH, BPF_ST, BPF_STX,
  BPF_SUB, BPF_TAX, BPF_TXA, BPF_X, BPF_XOR, bpfClass, bpfMode, bpfOp, bpfSrc,
} from '../insn.js';
import type { Block, Stmt } from './block.js';
import { bit, mask, setStmts, sweep } from './fold-sweep.js';

type Val = number | null;

function alu(op: number, a: number, b: number): number | null {
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

function decideJump(op: number, a: number, k: number): boolean | null {
  switch (op) {
    case BPF_JEQ: return a === k;
    case BPF_JGT: return a > k;
    case BPF_JGE: return a >= k;
    case BPF_JSET: return (a & k) !== 0;
    default: return null;
  }
}

/** ALU K operations that leave A unchanged. */
function identity(op: number, k: number): boolean {
  if (k === 0) return op === BPF_ADD || op === BPF_SUB || op === BPF_OR || op === BPF_XOR || op === BPF_LSH || op === BPF_RSH;
  if (k === 1) return op === BPF_MUL || op === BPF_DIV;
  return op === BPF_AND && k >>> 0 === 0xffffffff;
}


/** Forward pass: constant propagation, copy propagation through scratch words, folding. */
function propagate(b: Block, aLiveOut: boolean): void {
  let a: Val = null;
  let x: Val = null;
  // Made on the first store: most blocks have none.
  let mem: Map<number, Val> | null = null;
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
      if (mode === BPF_MEM && bit(s.k, xEq) && (mem?.get(s.k) ?? null) === null) {
        // X holds the word: `txa` reads no memory, so the store feeding it may become dead.
        (out ??= stmts.slice(0, i)).push({ ...s, code: BPF_MISC | BPF_TXA, k: 0 });
        a = x;
        aEq = xEq;
        continue;
      }
      if (mode === BPF_IND && x !== null && x + (s.k >>> 0) <= 0xffffffff) {
        s = { ...s, code: BPF_LD | BPF_ABS | (c & 0x18), k: x + (s.k >>> 0) };
      }
      if (mode === BPF_IMM) a = s.k >>> 0;
      else if (mode === BPF_MEM) {
        const v = mem?.get(s.k) ?? null;
        if (v !== null) s = { ...s, code: BPF_LD | BPF_IMM, k: v };
        a = v;
      } else a = null;
      aEq = mode === BPF_MEM ? mask(s0.k) : 0;
    } else if (cls === BPF_LDX) {
      const mode = bpfMode(c);
      if (mode === BPF_MEM && bit(s.k, xEq)) {
        out ??= stmts.slice(0, i);
        continue;
      }
      if (mode === BPF_MEM && bit(s.k, aEq) && (mem?.get(s.k) ?? null) === null) {
        // A holds the word (`st M[k]; ldx M[k]`): `tax` instead, as libpcap's optimizer does.
        (out ??= stmts.slice(0, i)).push({ ...s, code: BPF_MISC | BPF_TAX, k: 0 });
        x = a;
        xEq = aEq;
        continue;
      }
      if (mode === BPF_IMM) x = s.k >>> 0;
      else if (mode === BPF_MEM) {
        const v = mem?.get(s.k) ?? null;
        if (v !== null) s = { ...s, code: BPF_LDX | BPF_IMM, k: v };
        x = v;
      } else x = null;
      xEq = mode === BPF_MEM ? mask(s0.k) : 0;
    } else if (cls === BPF_ST) {
      (mem ??= new Map<number, Val>()).set(s.k, a);
      aEq |= mask(s.k);
      xEq &= ~mask(s.k);
    } else if (cls === BPF_STX) {
      (mem ??= new Map<number, Val>()).set(s.k, x);
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
          s = { ...s, code: BPF_LD | BPF_IMM, k: a };
        }
      } else {
        if (bpfSrc(c) === BPF_X && x !== null && !((op === BPF_DIV || op === BPF_MOD) && x === 0)) {
          s = { ...s, code: BPF_ALU | op | BPF_K, k: x };
        }
        const kk = s.k >>> 0;
        const absorbing = bpfSrc(s.code) === BPF_K && (((op === BPF_AND || op === BPF_MUL) && kk === 0) || ((op === BPF_LSH || op === BPF_RSH) && kk >= 32));
        if (absorbing) {
          // The result does not depend on A.
          a = 0;
          s = { ...s, code: BPF_LD | BPF_IMM, k: 0 };
        } else if (bpfSrc(s.code) === BPF_K && a !== null) {
          const v = alu(op, a, s.k >>> 0);
          if (v !== null) {
            a = v;
            s = { ...s, code: BPF_LD | BPF_IMM, k: v };
          } else a = null;
        } else a = null;
      }
    } else if (c === (BPF_MISC | BPF_TAX)) {
      x = a;
      xEq = aEq;
      if (a !== null) s = { ...s, code: BPF_LDX | BPF_IMM, k: a };
    } else if (c === (BPF_MISC | BPF_TXA)) {
      a = x;
      aEq = xEq;
      if (x !== null) s = { ...s, code: BPF_LD | BPF_IMM, k: x };
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
  if (bpfSrc(c) === BPF_X && x !== null) b.s = { ...b.s, code: (c & ~BPF_X) | BPF_K, k: x };
  // `sub #c; jeq #0` is `jeq #c`, and `sub x; jeq #0` is `jeq x` (libpcap
  // 1.10.3 compares that way), when no successor reads the difference left in A.
  const last = out[out.length - 1];
  if (!aLiveOut && last?.code === (BPF_ALU | BPF_SUB | BPF_K) && b.s.code === (BPF_JMP | BPF_JEQ | BPF_K) && b.s.k === 0) {
    drop = true;
    b.s = { ...b.s, k: last.k >>> 0 };
    a = a === null ? null : (a + (last.k >>> 0)) >>> 0;
  } else if (!aLiveOut && last?.code === (BPF_ALU | BPF_SUB | BPF_X) && b.s.code === (BPF_JMP | BPF_JEQ | BPF_K) && b.s.k === 0) {
    drop = true;
    b.s = { ...b.s, code: BPF_JMP | BPF_JEQ | BPF_X, k: 0 };
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
  return drop;
}


/** Statements and undecided jumps in the graph: folding is done when a round leaves it as it was. */
function graphSize(blocks: readonly Block[]): number {
  let n = 0;
  for (const b of blocks) n += b.stmts.length + (b.jt === b.jf ? 0 : 1);
  return n;
}

/** Fold and sweep every block; `readsOnEntry` says which blocks need A/X from before. */
export function foldBlocks(blocks: readonly Block[], readsOnEntry: (b: Block) => boolean): void {
  // Each sweep can expose more constants (a dead `ld #k; st M[i]` pair
  // hides an adjacent store/load), so go round a few times.
  let before = graphSize(blocks);
  for (let round = 0; round < 4; round++) {
    const after = foldOnce(blocks, readsOnEntry);
    if (after === before) break;
    before = after;
  }
  for (const b of blocks) andToJset(b, readsOnEntry);
}

/** `and #m; jeq #0` with A dead afterwards is `jset #m` with the branches swapped. */
function andToJset(b: Block, readsOnEntry: (b: Block) => boolean): void {
  const last = b.stmts[b.stmts.length - 1];
  if (last?.code !== (BPF_ALU | BPF_AND | BPF_K) || b.s.code !== (BPF_JMP | BPF_JEQ | BPF_K) || b.s.k !== 0) return;
  if (b.jt === null || b.jf === null || b.jt === b.jf || readsOnEntry(b.jt) || readsOnEntry(b.jf)) return;
  b.stmts = b.stmts.slice(0, -1);
  b.s = { ...b.s, code: BPF_JMP | BPF_JSET | BPF_K, k: last.k >>> 0 };
  const t = b.jt;
  b.jt = b.jf;
  b.jf = t;
}

/** One round over every block; returns graphSize() after it (summed as the sweep leaves each block). */
function foldOnce(blocks: readonly Block[], readsOnEntry: (b: Block) => boolean): number {
  // A block's propagate() and sweep() depend on nothing but the block (its
  // statement array, jump and successors, never edited in place) and the
  // flags passed in: where those are what they were when the pass last left
  // the block as it was, it would leave it as it is again, so it is skipped.
  for (const b of blocks) {
    const live = (b.jt !== null && readsOnEntry(b.jt)) || (b.jf !== null && readsOnEntry(b.jf));
    const { stmts, s, jt, jf } = b;
    if (b.pmStmts === stmts && b.pmS === s && b.pmJt === jt && b.pmJf === jf && b.pmLive === live) continue;
    propagate(b, live);
    if (b.stmts === stmts && b.s === s && b.jt === jt && b.jf === jf) {
      b.pmStmts = stmts;
      b.pmS = s;
      b.pmJt = jt;
      b.pmJf = jf;
      b.pmLive = live;
    }
  }
  // A scratch word read in some block before that block writes it is kept
  // alive everywhere (libpcap's code shares words across blocks only in the
  // pflog prologue and protochain). Bit masks: words past 31 always count as read.
  let memRead = 0;
  for (const b of blocks) memRead |= readsMemory(b);
  // The sweep changes statements only, each block's own: its part of the size is final after it.
  let size = 0;
  for (const b of blocks) {
    const live = (b.jt !== null && readsOnEntry(b.jt)) || (b.jf !== null && readsOnEntry(b.jf));
    const { stmts, s, jt, jf } = b;
    size += b.jt === b.jf ? 0 : 1;
    if (b.smStmts === stmts && b.smS === s && b.smJt === jt && b.smJf === jf && b.smLive === live && b.smMem === memRead) {
      size += stmts.length;
      continue;
    }
    sweep(b, live, live, memRead);
    size += b.stmts.length;
    if (b.stmts === stmts) {
      b.smStmts = stmts;
      b.smS = s;
      b.smJt = jt;
      b.smJf = jf;
      b.smLive = live;
      b.smMem = memRead;
    }
  }
  return size;
}

/** The scratch words a block reads before it writes them (a mask), memoized for its statement array. */
function readsMemory(b: Block): number {
  if (b.rmStmts === b.stmts) return b.rmMask;
  let read = 0;
  let written = 0;
  for (const s of b.stmts) {
    const cls = bpfClass(s.code);
    if ((cls === BPF_LD || cls === BPF_LDX) && bpfMode(s.code) === BPF_MEM && !bit(s.k, written)) read |= mask(s.k);
    if (cls === BPF_ST || cls === BPF_STX) written |= mask(s.k);
  }
  b.rmStmts = b.stmts;
  b.rmMask = read;
  return read;
}
