// What jump threading (opt-thread.ts) knows on a path: the outcomes of the
// tests on the way, as facts about the values those tests read, and the
// decisions they imply for a later test on the same value.
//
// Numbers are stored as small integers wherever they can be: a fact is made
// for every edge of every block, and a field holding a number beyond 31 bits
// (a 32-bit k, the upper bound 0xffffffff) would be a boxed double, one more
// object per fact. So k and eq are kept as signed 32-bit words (`| 0`, read
// back with `>>> 0`), and the bounds lo and hi shifted down by 2^31.
import { BPF_ALU, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JSET, BPF_NEG } from '../insn.js';
import { beyondOn, usedBeyond } from './beyond-libpcap.js';
import { alu } from './bpf-eval.js';
import { constantOf, opOfValue, operandOf } from './opt-values.js';

/** The shift of the stored bounds (lo and hi): 0 and 0xffffffff become -2^31 and 2^31 - 1. */
const SHIFT = 0x80000000;

/**
 * What the tests on the way to a block say about packet values: an
 * immutable list (shared tails, so learning a fact costs one node). Each
 * node also sums up its key's facts from it on (itself and older), so a
 * decision reads the newest fact on its key instead of the whole list.
 */
export interface Fact {
  /** The key (a value number, opt-keys.ts) of the value the test was on. */
  key: number;
  op: number;
  /** The test's k, as a signed 32-bit word. */
  k: number;
  outcome: boolean;
  next: Fact | null;
  /** The number of facts from this one on (the list's length): meet() aligns two lists by it. */
  depth: number;
  /** The next older fact on the same key (null: none). */
  same: Fact | null;
  /** From this fact on, on its key: whether a `jeq` held, and the k of the newest that did (signed). */
  hasEq: boolean;
  eq: number;
  /** From this fact on, on its key: the value is at least lo and at most hi (both less SHIFT). */
  lo: number;
  hi: number;
  /** From this fact on, on its key: the values it can be (signed words), when few are known (ONE_OF); null: any. */
  set: readonly number[] | null;
}

/**
 * A fact made where ways join (meet()), not by a test: the value is one of
 * `set` (`jeq #0x84` held on one way, `jeq #0x6` on the other: 0x84 or 6,
 * so a later `jeq #0x11` fails). Not a BPF operation code.
 */
export const ONE_OF = -1;
/** The most values a ONE_OF fact holds (a join of more ways forgets). */
const MAX_SET = 8;

export type Facts = Fact | null;

/** The newest fact on `key` in `f` (null: none). */
export function newest(f: Facts, key: number): Facts {
  let e = f;
  while (e !== null && e.key !== key) e = e.next;
  return e;
}

/**
 * A fact (k a signed word) put in front of `next`, with its key's summary;
 * `same` is newest(next, key). Kept small (a ONE_OF fact's set is
 * oneOfFact()'s) so that V8 inlines it where threading makes a fact for
 * every edge: as a bigger function it was a call each time.
 */
export function fact(key: number, op: number, k: number, outcome: boolean, next: Facts, same: Facts): Fact {
  let hasEq = false;
  let eq = 0;
  let lo = -SHIFT;
  let hi = 0xffffffff - SHIFT;
  let set: readonly number[] | null = null;
  if (same !== null) {
    hasEq = same.hasEq;
    eq = same.eq;
    lo = same.lo;
    hi = same.hi;
    set = same.set;
  }
  const ku = k >>> 0;
  switch (op) {
    case BPF_JEQ:
      if (outcome) {
        hasEq = true;
        eq = k;
      }
      break;
    case BPF_JGT:
      if (outcome) lo = Math.max(lo, ku + 1 - SHIFT);
      else hi = Math.min(hi, ku - SHIFT);
      break;
    case BPF_JGE:
      if (outcome) lo = Math.max(lo, ku - SHIFT);
      else hi = Math.min(hi, ku - 1 - SHIFT);
      break;
    default:
      break;
  }
  return { key, op, k, outcome, next, depth: next === null ? 1 : next.depth + 1, same, hasEq, eq, lo, hi, set };
}

/** A ONE_OF fact: the value is one of `oneOf` (and of what `same` allows). */
function oneOfFact(key: number, next: Facts, same: Facts, oneOf: readonly number[]): Fact {
  const f = fact(key, ONE_OF, 0, true, next, same);
  const set = f.set;
  f.set = set === null ? oneOf : set.filter((v) => oneOf.includes(v));
  return f;
}

const sameFact = (x: Fact, y: Fact): boolean =>
  x.key === y.key && x.op === y.op && x.k === y.k && x.outcome === y.outcome && (x.op !== ONE_OF || sameSet(x.set, y.set));

function sameSet(x: readonly number[] | null, y: readonly number[] | null): boolean {
  if (x === y) return true;
  if (x?.length !== y?.length || x === null || y === null) return false;
  return x.every((v) => y.includes(v));
}

/** The values the facts from `top` on say its key can be, when they are few (a held `jeq`, or a ONE_OF); null: unknown. */
function valuesOf(top: Facts): readonly number[] | null {
  if (top === null) return null;
  if (top.hasEq) return [top.eq];
  return top.set;
}

/**
 * Do the facts from `top` on bind its key to few values (valuesOf), all of
 * them in `set`? Asked on every join: read off the fact, no array made.
 */
function boundWithin(top: Facts, set: readonly number[] | null): boolean {
  if (top === null || set === null) return false;
  if (top.hasEq) return set.includes(top.eq);
  const vs = top.set;
  if (vs === null) return false;
  for (const v of vs) if (!set.includes(v)) return false;
  return true;
}

const length = (f: Facts): number => (f === null ? 0 : f.depth);

/**
 * meet()'s list of the facts it keeps (it is not reentered): no array per
 * join. Its entries up to meet()'s count are this join's; the array is
 * never shortened (setting an array's length is a call into the runtime,
 * which cost more than the rest of a small join).
 */
const kept0: Fact[] = [];

/**
 * Facts true on both paths, in a's order then b's: a fact of one list that
 * the other has too, or that the other's facts on its key imply (`jeq
 * #0x800` held on one path, `jeq #0x806` failed on the other: the value is
 * not 0x806 on both). Implied only where the other path tested the key at
 * all, so that the loads behind the key succeeded on it too. Lists are a
 * handful of entries, so a pairwise scan beats building a set; and the two
 * usually share a tail (the facts from before the paths split), which is in
 * both by definition: only the entries ahead of it are looked at. When every
 * fact of `a` survives and `b` adds none, `a` itself is the answer (no copy).
 */
export function meet(a: Facts, b: Facts): Facts {
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
  const keep = kept0;
  let n = 0;
  let all = true;
  for (let f = a; f !== shared && f !== null; f = f.next) {
    let found = false;
    for (let g = b; g !== shared && g !== null && !found; g = g.next) found = g === f || sameFact(f, g);
    if (found || implied(f, b)) keep[n++] = f;
    else all = false;
  }
  const kept = n;
  for (let g = b; g !== shared && g !== null; g = g.next) {
    let found = false;
    for (let i = 0; i < kept && !found; i++) {
      const f = keep[i];
      found = f !== undefined && sameFact(f, g);
    }
    if (!found && implied(g, a)) keep[n++] = g;
  }
  // `a` as it is when every fact of it survives and `b` adds none: a joined
  // set (joinKeys) is the union of a's values with b's, so it never says
  // more than a's facts do, and is not worked out. Most joins of two tests
  // of one key (ethertype 0x800 on one way, 0x86dd on the other) are such,
  // and a copy would cost a fact per node.
  if (all && n === kept) return a;
  const sets = beyondOn() ? joinedSets(a, b, shared) : null;
  let out: Facts = shared;
  for (let i = n - 1; i >= 0; i--) {
    const f = keep[i];
    if (f === undefined) continue;
    const same = newest(out, f.key);
    out = f.op === ONE_OF && f.set !== null ? oneOfFact(f.key, out, same, f.set) : fact(f.key, f.op, f.k, f.outcome, out, same);
  }
  if (sets !== null) {
    for (let i = 0; i + 1 < sets.length; i += 2) {
      const key = sets[i] as number;
      const set = sets[i + 1] as readonly number[];
      const same = newest(out, key);
      // Already known as narrowly (a kept fact, or the shared tail): nothing to add.
      if (boundWithin(same, set)) continue;
      out = oneOfFact(key, out, same, set);
    }
  }
  return out;
}

/**
 * For each key a fact ahead of the shared tail is on, where both ways bind
 * it to few values (each a `jeq` that held, or a ONE_OF): the key and the
 * union of the two, as a flat [key, set, key, set…] list; null if none.
 */
function joinedSets(a: Facts, b: Facts, shared: Facts): (number | readonly number[])[] | null {
  const out = joinKeys(a, a, b, shared, null);
  return joinKeys(b, a, b, shared, out);
}

/**
 * joinedSets() for the keys of `side`'s facts ahead of `shared`, added to
 * `out` (made when the first is found). Only a held `jeq` or a ONE_OF ahead
 * of the shared tail can make a key's values differ from the tail's.
 */
function joinKeys(side: Facts, a: Facts, b: Facts, shared: Facts, out0: (number | readonly number[])[] | null): (number | readonly number[])[] | null {
  let out = out0;
  for (let f = side; f !== shared && f !== null; f = f.next) {
    if (!((f.op === BPF_JEQ && f.outcome) || f.op === ONE_OF)) continue;
    const key = f.key;
    let seen = false;
    if (out !== null) for (let i = 0; i < out.length && !seen; i += 2) seen = out[i] === key;
    if (seen) continue;
    const ta = newest(a, key);
    const tb = newest(b, key);
    // Few values on both ways, else nothing to join (asked before any array is made: most joins have none).
    if (ta === tb || ta === null || tb === null || !(ta.hasEq || ta.set !== null) || !(tb.hasEq || tb.set !== null)) continue;
    // The union, a's values first, made from the facts as they are (no array per side).
    const union: number[] = [];
    if (ta.hasEq) union.push(ta.eq);
    else if (ta.set !== null) for (const v of ta.set) union.push(v);
    if (tb.hasEq) {
      if (!union.includes(tb.eq)) union.push(tb.eq);
    } else if (tb.set !== null) for (const v of tb.set) if (!union.includes(v)) union.push(v);
    if (union.length <= MAX_SET) (out ??= []).push(key, union);
  }
  return out;
}

/** Do the facts `f` on fact e's key (at least one) imply e? */
function implied(e: Fact, f: Facts): boolean {
  const top = newest(f, e.key);
  if (e.op === ONE_OF) return boundWithin(top, e.set);
  return top !== null && decide(e.op, e.k >>> 0, false, 0, e.key, top) === e.outcome;
}

/**
 * The values `key` can be when it is an ALU operation with a constant on a
 * value the facts bind to few (or one so derived, two deep), or null. The
 * facts on that value mean its loads succeeded on the path, and they are
 * all the key's loads (an ALU operation with a constant loads nothing).
 */
function derivedValues(key: number, f: Facts, depth: number): readonly number[] | null {
  const from = depth < DERIVED_DEPTH ? derivedFrom(key) : 0;
  if (from === 0) return null;
  const op = opOfValue(key);
  const c = constantOf(operandOf(key, 1)) ?? 0;
  const t = newest(f, from);
  const vs = t === null ? derivedValues(from, f, depth + 1) : valuesOf(t);
  if (vs === null) return null;
  const out: number[] = [];
  for (const v of vs) {
    const r = alu(op & 0xf0, v >>> 0, c);
    if (r === null) return null;
    if (!out.includes(r | 0)) out.push(r | 0);
  }
  return out;
}

/**
 * The value `key` is computed from with a constant (an ALU operation other
 * than NEG, on it and a constant): derivedValues() reads the facts on it
 * for `key`. 0 (no value) for any other.
 */
export function derivedFrom(key: number): number {
  const op = opOfValue(key);
  if (op < 0 || (op & 0x07) !== BPF_ALU || op === (BPF_ALU | BPF_NEG) || (op & 0x08) !== 0) return 0;
  return constantOf(operandOf(key, 1)) === null ? 0 : operandOf(key, 0);
}

/** How many values deep derivedValues() looks from a key (it, what that is derived from, and so on). */
export const DERIVED_DEPTH = 3;

/** Outcome of `op #k` on the value `eq` (both unsigned), or null for another operation. */
function decideConst(op: number, eq: number, k: number): boolean | null {
  if (op === BPF_JEQ) return eq === k;
  if (op === BPF_JGT) return eq > k;
  if (op === BPF_JGE) return eq >= k;
  if (op === BPF_JSET) return (eq & k) !== 0;
  return null;
}

/**
 * Whether the last decide() was decided by a `jeq` that held on the key (not
 * by a constant A): then the facts already say all there is to know of the
 * key's value, and one learned from the outcome tells decide() nothing more.
 */
export let byHeldEq = false;

/**
 * Outcome of a test `op #k` (k unsigned) on the value with this key, given
 * the facts, or null if unknown: decided by the value when it is a constant
 * (`isConst`, `constA` a signed word) or the newest `jeq` that held on the
 * key, else by everything known of the key (bounds, values it is not, bits
 * set or clear).
 */
export function decide(op: number, k: number, isConst: boolean, constA: number, key: number, f: Facts): boolean | null {
  let has = isConst;
  let eqWord = constA;
  // The newest fact on the key: its summary covers all of them.
  let top: Facts = null;
  byHeldEq = false;
  if (!has) {
    top = newest(f, key);
    if (top?.hasEq === true) {
      has = true;
      eqWord = top.eq;
      byHeldEq = true;
    }
  }
  if (has) return decideConst(op, eqWord >>> 0, k);
  // No few values known of the value itself: of the one it is computed from with a constant (`and #0xf0` of a byte known
  // to be 0)? Asked even where the value has facts of its own (`jeq #0x60` failed), else learning one would decide less.
  const set = top?.set ?? (beyondOn() ? derivedValues(key, f, 0) : null);
  if (set !== null) {
    // Decided when every value it can be gives one outcome.
    let t = 0;
    for (const v of set) if (decideConst(op, v >>> 0, k) === true) t++;
    const known = op === BPF_JEQ || op === BPF_JGT || op === BPF_JGE || op === BPF_JSET;
    if (known && set.length > 0 && t === set.length) {
      usedBeyond();
      return true;
    }
    if (known && t === 0) {
      usedBeyond();
      return false;
    }
  }
  const ks = k - SHIFT;
  const lo = top?.lo ?? -SHIFT;
  const hi = top?.hi ?? 0xffffffff - SHIFT;
  const kw = k | 0;
  switch (op) {
    case BPF_JEQ:
      if (ks < lo || ks > hi) return false;
      for (let e = top; e !== null; e = e.same) if (e.op === BPF_JEQ && !e.outcome && e.k === kw) return false;
      return null;
    case BPF_JGT:
      if (lo > ks) return true;
      if (hi <= ks) return false;
      return null;
    case BPF_JGE:
      if (lo >= ks) return true;
      if (hi < ks) return false;
      return null;
    case BPF_JSET:
      for (let e = top; e !== null; e = e.same) if (e.op === BPF_JSET && e.outcome && e.k === kw) return true;
      for (let e = top; e !== null; e = e.same) if (e.op === BPF_JSET && !e.outcome && (k & ~e.k) === 0) return false;
      return null;
    default:
      return null;
  }
}

/**
 * What threading needs to know of a block, made once for its statements and
 * jump (keys()): it is asked on every step, so it is read off one object
 * instead of worked out from the statements each time.
 */
export interface ThreadInfo {
  /** The block's whole key (opt-keys.ts), when the block can be skipped: the tested value, every load of the block part of it. */
  whole: number | null;
  /** The value its jump tests, as a value number (opt-keys.ts). */
  test: number | null;
  /** Its jump is a test of A against k, which decide() may decide. */
  decidable: boolean;
  /** Its outcome teaches a fact: a test against k of an A that is not a constant. */
  learns: boolean;
  op: number;
  /** The jump's k, as a signed 32-bit word (see opt-facts.ts). */
  k: number;
  /** A is a constant when the jump runs (`ld #constA`, a signed word). */
  isConst: boolean;
  constA: number;
  /** opt-blocks.ts readsOnEntry(): a test may not be skipped into this block. */
  reads: boolean;
}
