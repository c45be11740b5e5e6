// Jump threading for the optimizer (optimize.ts): an edge into a test whose
// outcome the tests on every path to that edge already imply goes straight
// to the outcome. A test is only skipped when its whole block computed the
// same value earlier on the path (so its loads already succeeded) and the
// block it skips to does not read A or X before setting them.
import { BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JMP, BPF_JSET, BPF_K, bpfClass, bpfOp, bpfSrc } from '../insn.js';
import { nextWalk, type Block } from './block.js';
import { internGeneration } from './opt-intern.js';
import { constantA, order, pureKey, readsOnEntry, selfContained, testKey } from './opt-blocks.js';

/**
 * What the tests on the way to a block say about packet values: an
 * immutable list (shared tails, so learning a fact costs one node). Each
 * node also sums up its key's facts from it on (itself and older), so a
 * decision reads the newest fact on its key instead of the whole list.
 */
export interface Fact {
  /** The interned pure key of the block whose test this is. */
  key: number;
  op: number;
  k: number;
  outcome: boolean;
  next: Fact | null;
  /** The next older fact on the same key (null: none). */
  same: Fact | null;
  /** From this fact on, on its key: the k of the newest `jeq` that held, if any. */
  eq: number | undefined;
  /** From this fact on, on its key: the value is at least lo and at most hi. */
  lo: number;
  hi: number;
}
type Facts = Fact | null;

/** A fact put in front of `next`, with its key's summary. */
function fact(key: number, op: number, k: number, outcome: boolean, next: Facts): Fact {
  let same = next;
  while (same !== null && same.key !== key) same = same.next;
  let eq = same?.eq;
  let lo = same?.lo ?? 0;
  let hi = same?.hi ?? 0xffffffff;
  switch (op) {
    case BPF_JEQ:
      if (outcome) eq = k;
      break;
    case BPF_JGT:
      if (outcome) lo = Math.max(lo, k + 1);
      else hi = Math.min(hi, k);
      break;
    case BPF_JGE:
      if (outcome) lo = Math.max(lo, k);
      else hi = Math.min(hi, k - 1);
      break;
    default:
      break;
  }
  return { key, op, k, outcome, next, same, eq, lo, hi };
}

const emptyFacts = (): Facts => null;

const sameFact = (x: Fact, y: Fact): boolean => x.key === y.key && x.op === y.op && x.k === y.k && x.outcome === y.outcome;

function length(f: Facts): number {
  let n = 0;
  for (let e = f; e !== null; e = e.next) n++;
  return n;
}

/**
 * Facts true on both paths (entries present in both lists), in a's order.
 * Lists are a handful of entries, so a pairwise scan beats building a set;
 * and the two usually share a tail (the facts from before the paths split),
 * which is in both by definition: only a's entries ahead of it are looked
 * up. When every fact of `a` survives, `a` itself is the answer (no copy).
 */
function meet(a: Facts, b: Facts): Facts {
  if (a === b) return a;
  // The first node the two lists share (null if none).
  let x = a;
  let y = b;
  for (let d = length(a) - length(b); d > 0; d--) x = x?.next ?? null;
  for (let d = length(b) - length(a); d > 0; d--) y = y?.next ?? null;
  while (x !== y && x !== null && y !== null) {
    x = x.next;
    y = y.next;
  }
  const shared = x;
  const keep: Fact[] = [];
  let all = true;
  for (let f = a; f !== shared && f !== null; f = f.next) {
    let found = false;
    for (let g = b; g !== null && !found; g = g.next) found = g === f || sameFact(f, g);
    if (found) keep.push(f);
    else all = false;
  }
  if (all) return a;
  let out: Facts = shared;
  for (let i = keep.length - 1; i >= 0; i--) {
    const f = keep[i];
    if (f === undefined) continue;
    out = fact(f.key, f.op, f.k, f.outcome, out);
  }
  return out;
}

/**
 * Outcome of b's test given the facts, or null if unknown: decided by the
 * newest `jeq` that held on the key if there is one, else by everything
 * known of the key (bounds, values it is not, bits set or clear).
 */
function decide(b: Block, key: number, f: Facts): boolean | null {
  const c = b.s.code;
  if (bpfSrc(c) !== BPF_K || bpfClass(c) !== BPF_JMP) return null;
  const k = b.s.k >>> 0;
  const op = bpfOp(c);
  let eq: number | undefined = constantA(b) ?? undefined;
  // The newest fact on the key: its summary covers all of them.
  let top: Facts = null;
  if (eq === undefined) {
    top = f;
    while (top !== null && top.key !== key) top = top.next;
    eq = top?.eq;
  }
  if (eq !== undefined) {
    if (op === BPF_JEQ) return eq === k;
    if (op === BPF_JGT) return eq > k;
    if (op === BPF_JGE) return eq >= k;
    if (op === BPF_JSET) return (eq & k) !== 0;
    return null;
  }
  const lo = top?.lo ?? 0;
  const hi = top?.hi ?? 0xffffffff;
  switch (op) {
    case BPF_JEQ:
      if (k < lo || k > hi) return false;
      for (let e = top; e !== null; e = e.same) if (e.op === BPF_JEQ && !e.outcome && e.k === k) return false;
      return null;
    case BPF_JGT:
      if (lo > k) return true;
      if (hi <= k) return false;
      return null;
    case BPF_JGE:
      if (lo >= k) return true;
      if (hi < k) return false;
      return null;
    case BPF_JSET:
      for (let e = top; e !== null; e = e.same) if (e.op === BPF_JSET && e.outcome && e.k === k) return true;
      for (let e = top; e !== null; e = e.same) if (e.op === BPF_JSET && !e.outcome && (k & ~e.k) === 0) return false;
      return null;
    default:
      return null;
  }
}

function learn(f: Facts, b: Block, key: number, outcome: boolean): Facts {
  const c = b.s.code;
  if (bpfSrc(c) !== BPF_K || constantA(b) !== null) return f;
  const k = b.s.k >>> 0;
  const op = bpfOp(c);
  return fact(key, op, k, outcome, f);
}

/** Facts on entry to t: those of every edge into it so far. */
function factsInto(t: Block, fs: Facts, walk: number): void {
  if (t.stamp !== walk) {
    t.stamp = walk;
    t.facts = fs;
  } else t.facts = meet(t.facts, fs);
}

/**
 * The whole block as a key, when the block can be skipped (pure and
 * self-contained), and the value its jump tests (see testKey): memoized on
 * the block while its statements, its jump and the interning generation
 * (opt-intern.ts) are the ones they were computed for.
 */
function keys(b: Block): void {
  const gen = internGeneration();
  if (b.keyIdStmts === b.stmts && b.keyIdS === b.s && b.keyIdGen === gen) return;
  const jump = bpfClass(b.s.code) === BPF_JMP;
  const whole = jump ? pureKey(b) : null;
  b.keyId = whole !== null && selfContained(b.stmts, 0) ? whole : null;
  b.testId = jump ? testKey(b) : null;
  b.keyIdStmts = b.stmts;
  b.keyIdS = b.s;
  b.keyIdGen = gen;
}

export interface Threaded {
  root: Block;
  /** Did any edge (or the entry) change? */
  changed: boolean;
}

export function thread(root: Block): Threaded {
  // Keys are interned list numbers (opt-intern.ts): facts compare them on every step.
  const keyOf = (b: Block): number | null => {
    keys(b);
    return b.keyId;
  };
  const testOf = (b: Block): number | null => {
    keys(b);
    return b.testId;
  };
  // Facts learned from b's outcome: on the value it tests, and on the whole block.
  const learnBoth = (f: Facts, b: Block, outcome: boolean): Facts => {
    const t = testOf(b);
    const k = keyOf(b);
    let out = t === null ? f : learn(f, b, t, outcome);
    if (k !== null && k !== t) out = learn(out, b, k, outcome);
    return out;
  };
  // Follow decided pure tests from `t` under facts `f`.
  const follow = (t0: Block, f0: Facts): Block => {
    let t = t0;
    let f = f0;
    for (let guard = 0; guard < 10000; guard++) {
      // A decided block with nothing left to run is just an edge.
      if (t.jt !== null && t.jt === t.jf && t.stmts.length === 0) {
        t = t.jt;
        continue;
      }
      const key = keyOf(t);
      if (key === null || t.jt === null || t.jf === null) return t;
      const d = decide(t, key, f);
      if (d === null) return t;
      const next = d ? t.jt : t.jf;
      // Threading changes no statements, so the memo on the block holds.
      if (readsOnEntry(next)) return t;
      f = learnBoth(f, t, d);
      t = next;
    }
    return t;
  };
  let entry = follow(root, emptyFacts());
  let changed = entry !== root;
  // The facts on entry to each block, on the block (`facts`, valid where `stamp` is this walk's).
  const walk = nextWalk();
  entry.stamp = walk;
  entry.facts = emptyFacts();
  for (const b of order(entry)) {
    const f = b.stamp === walk ? b.facts : emptyFacts();
    if (b.jt === null || b.jf === null) continue;
    const ft = learnBoth(f, b, true);
    const ff = learnBoth(f, b, false);
    const jt = follow(b.jt, ft);
    const jf = follow(b.jf, ff);
    if (jt !== b.jt || jf !== b.jf) changed = true;
    b.jt = jt;
    b.jf = jf;
    factsInto(b.jt, ft, walk);
    factsInto(b.jf, ff, walk);
  }
  if (entry.jt !== null && entry.jf !== null && entry.jt === entry.jf && keyOf(entry) !== null && constantA(entry) !== null) {
    entry = entry.jt;
    changed = true;
  }
  return { root: entry, changed };
}
