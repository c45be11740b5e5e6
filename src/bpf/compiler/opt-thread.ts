// Jump threading for the optimizer (optimize.ts): an edge into a test whose
// outcome the tests on every path to that edge already imply goes straight
// to the outcome. A test is only skipped when its whole block computed the
// same value earlier on the path (so its loads already succeeded) and the
// block it skips to does not read A or X before setting them.
import { BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JMP, BPF_JSET, BPF_K, bpfClass, bpfOp, bpfSrc } from '../insn.js';
import type { Block } from './block.js';
import { constantA, order, pureKey, readsOnEntry, selfContained, testKey } from './opt-blocks.js';

/**
 * What the tests on the way to a block say about packet values: an
 * immutable list (shared tails, so learning a fact costs one node).
 */
interface Fact {
  /** The interned pure key of the block whose test this is. */
  key: number;
  op: number;
  k: number;
  outcome: boolean;
  next: Fact | null;
}
type Facts = Fact | null;

const emptyFacts = (): Facts => null;

const sameFact = (x: Fact, y: Fact): boolean => x.key === y.key && x.op === y.op && x.k === y.k && x.outcome === y.outcome;

/**
 * Facts true on both paths (entries present in both lists). Lists are a
 * handful of entries, so a pairwise scan beats building a set; when every
 * fact of `a` survives, `a` itself is the answer (no copy).
 */
function meet(a: Facts, b: Facts): Facts {
  if (a === b) return a;
  const keep: Fact[] = [];
  let all = true;
  for (let f = a; f !== null; f = f.next) {
    let found = false;
    for (let g = b; g !== null && !found; g = g.next) found = g === f || sameFact(f, g);
    if (found) keep.push(f);
    else all = false;
  }
  if (all) return a;
  let out: Facts = null;
  for (let i = keep.length - 1; i >= 0; i--) {
    const f = keep[i];
    if (f === undefined) continue;
    out = { key: f.key, op: f.op, k: f.k, outcome: f.outcome, next: out };
  }
  return out;
}

/** Outcome of b's test given the facts, or null if unknown. */
function decide(b: Block, key: number, f: Facts): boolean | null {
  const c = b.s.code;
  if (bpfSrc(c) !== BPF_K || bpfClass(c) !== BPF_JMP) return null;
  const k = b.s.k >>> 0;
  const op = bpfOp(c);
  let eq: number | undefined = constantA(b) ?? undefined;
  let lo = 0;
  let hi = 0xffffffff;
  const ne = new Set<number>();
  const jsetT = new Set<number>();
  const jsetF: number[] = [];
  for (let e = f; e !== null && eq === undefined; e = e.next) {
    if (e.key !== key) continue;
    switch (e.op) {
      case BPF_JEQ:
        if (e.outcome) eq = e.k;
        else ne.add(e.k);
        break;
      case BPF_JGT:
        if (e.outcome) lo = Math.max(lo, e.k + 1);
        else hi = Math.min(hi, e.k);
        break;
      case BPF_JGE:
        if (e.outcome) lo = Math.max(lo, e.k);
        else hi = Math.min(hi, e.k - 1);
        break;
      case BPF_JSET:
        if (e.outcome) jsetT.add(e.k);
        else jsetF.push(e.k);
        break;
      default:
        break;
    }
  }
  if (eq !== undefined) {
    if (op === BPF_JEQ) return eq === k;
    if (op === BPF_JGT) return eq > k;
    if (op === BPF_JGE) return eq >= k;
    if (op === BPF_JSET) return (eq & k) !== 0;
    return null;
  }
  switch (op) {
    case BPF_JEQ:
      if (ne.has(k) || k < lo || k > hi) return false;
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
      if (jsetT.has(k)) return true;
      for (const m of jsetF) if ((k & ~m) === 0) return false;
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
  return { key, op, k, outcome, next: f };
}

/** Numbers each threading run, so a block's cached key from an earlier run is not reused. */
let threadRuns = 0;

export function thread(root: Block): Block {
  // Pure keys interned as numbers: facts compare them on every step.
  const run = threadRuns++;
  const interned = new Map<string, number>();
  const reads = new Map<Block, boolean>();
  const intern = (key: string | null): number | null => {
    if (key === null) return null;
    const id = interned.get(key) ?? interned.size;
    interned.set(key, id);
    return id;
  };
  // keyOf: the whole block as a key, when the block can be skipped (pure and
  // self-contained); testOf: the value its jump tests (see testKey).
  const keyOf = (b: Block): number | null => {
    if (b.keyRun !== run) {
      const jump = bpfClass(b.s.code) === BPF_JMP;
      const whole = jump ? pureKey(b) : null;
      b.keyId = intern(whole !== null && selfContained(b.stmts, 0) ? whole : null);
      b.testId = jump ? intern(testKey(b)) : null;
      b.keyRun = run;
    }
    return b.keyId;
  };
  const testOf = (b: Block): number | null => {
    keyOf(b);
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
  const readsOf = (b: Block): boolean => {
    if (!reads.has(b)) reads.set(b, readsOnEntry(b));
    return reads.get(b) === true;
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
      if (readsOf(next)) return t;
      f = learnBoth(f, t, d);
      t = next;
    }
    return t;
  };
  let entry = follow(root, emptyFacts());
  const entryFacts = new Map<Block, Facts>();
  entryFacts.set(entry, emptyFacts());
  for (const b of order(entry)) {
    const f = entryFacts.get(b) ?? emptyFacts();
    if (b.jt === null || b.jf === null) continue;
    const ft = learnBoth(f, b, true);
    const ff = learnBoth(f, b, false);
    b.jt = follow(b.jt, ft);
    b.jf = follow(b.jf, ff);
    for (const [succ, fs] of [[b.jt, ft], [b.jf, ff]] as const) {
      const prev = entryFacts.get(succ);
      entryFacts.set(succ, prev === undefined ? fs : meet(prev, fs));
    }
  }
  if (entry.jt !== null && entry.jf !== null && entry.jt === entry.jf && keyOf(entry) !== null && constantA(entry) !== null) entry = entry.jt;
  return entry;
}
