// Jump threading for the optimizer (optimize.ts): an edge into a test whose
// outcome the tests on every path to that edge already imply goes straight
// to the outcome. A test is only skipped when its whole block computed the
// same value earlier on the path (so its loads already succeeded) and the
// block it skips to does not read A or X before setting them.
import { BPF_ALU, BPF_DIV, BPF_IMM, BPF_JMP, BPF_K, BPF_LD, BPF_LDX, BPF_LEN, BPF_MEM, BPF_MOD, BPF_RET, BPF_ST, BPF_STX, bpfClass, bpfMode, bpfOp, bpfSrc } from '../insn.js';
import { beyondOn, usedBeyond } from './beyond-libpcap.js';
import type { Block, Stmt } from './block.js';
import { blockKeys, wholeKey } from './opt-keys.js';
import { vnRun } from './opt-values.js';
import { constantA, order, readsOnEntry } from './opt-blocks.js';
import { DERIVED_DEPTH, decide, derivedFrom, fact, meet, newest, type Facts, type ThreadInfo } from './opt-facts.js';

const emptyFacts = (): Facts => null;

/**
 * Threading's own state about one block: its ThreadInfo (opt-facts.ts), in
 * the record itself (no object per block per run), valid where `keyed` and
 * made for the statements, jump and value-numbering run it holds (so never
 * one of another run); and the facts on entry to it, valid where `stamp` is
 * the walk's number. One record per block id, kept between runs
 * (threadStart makes room): one table read, then fields.
 */
class ThreadMemo implements ThreadInfo {
  whole: number | null = null;
  test: number | null = null;
  decidable = false;
  learns = false;
  op = 0;
  k = 0;
  isConst = false;
  constA = 0;
  reads = false;
  keyed = false;
  stmts: readonly Stmt[] | null = null;
  s: Stmt | null = null;
  gen = -1;
  facts: Facts = null;
  stamp = 0;
  /** For rejectsOnEveryWay(), made by markWays() when it is asked: see there. */
  down = 0;
  repeats = false;
}

const memos: ThreadMemo[] = [];
let walks = 0;

/** Make room for an optimizer run on a graph whose block ids are below `ids`. */
export function threadStart(ids: number): void {
  while (memos.length < ids) memos.push(new ThreadMemo());
}

/** The record of a block (threadStart made room for its id). */
function memoOf(b: Block): ThreadMemo {
  const m = memos[b.id];
  if (m === undefined) throw new Error('moat bpf: threading ran on a block it has no room for');
  return m;
}

/**
 * Facts learned from b's outcome: on the value it tests, and on the whole
 * block (keys() must have run on b). A test against X or on a constant
 * teaches nothing.
 */
function learnBoth(f: Facts, info: ThreadInfo, outcome: boolean): Facts {
  if (!info.learns) return f;
  const { op, k, test, whole } = info;
  let out = test === null ? f : fact(test, op, k, outcome, f, newest(f, test));
  // The fact just put in front is on another key: look past it.
  if (whole !== null && whole !== test) out = fact(whole, op, k, outcome, out, newest(f, whole));
  return out;
}

/**
 * Facts on entry to t: those of every edge into it so far. A return reads
 * none (it tests nothing, and has no edge out to pass them on): not kept.
 */
function factsInto(t: Block, fs: Facts, walk: number): void {
  if (t.jt === null) return;
  const m = memoOf(t);
  if (m.stamp !== walk) {
    m.stamp = walk;
    m.facts = fs;
  } else m.facts = meet(m.facts, fs);
}

/**
 * The block's ThreadInfo (its record), made afresh unless the statements,
 * the jump and the value-numbering run (opt-values.ts) are the ones it was
 * made for.
 */
function keys(b: Block): ThreadInfo {
  const gen = vnRun();
  const m = memoOf(b);
  if (m.keyed && m.stmts === b.stmts && m.s === b.s && m.gen === gen) return m;
  let whole: number | null = null;
  let test: number | null = null;
  const c = b.s.code;
  const jump = bpfClass(c) === BPF_JMP;
  if (jump) {
    test = blockKeys(b);
    whole = wholeKey;
  }
  const constA = constantA(b);
  const onK = bpfSrc(c) === BPF_K;
  m.whole = whole;
  m.test = test;
  m.decidable = onK && jump;
  m.learns = onK && constA === null;
  m.op = bpfOp(c);
  m.k = b.s.k | 0;
  m.isConst = constA !== null;
  m.constA = (constA ?? 0) | 0;
  m.reads = readsOnEntry(b);
  m.keyed = true;
  m.stmts = b.stmts;
  m.s = b.s;
  m.gen = gen;
  return m;
}

/**
 * May the block be passed by without running it (its test decides nothing
 * on the path)? Not if a statement can end the program (a packet load, a
 * division by X) or stores into scratch memory, nor if it reads A or X
 * from before (then its test was not its own to drop).
 */
function free(b: Block): boolean {
  const m = memoOf(b);
  if (m.keyed ? m.reads : readsOnEntry(b)) return false;
  for (const s of b.stmts) {
    const c = s.code;
    const cls = bpfClass(c);
    if (cls === BPF_ST || cls === BPF_STX || cls === BPF_JMP) return false;
    if ((cls === BPF_LD || cls === BPF_LDX) && bpfMode(c) !== BPF_IMM && bpfMode(c) !== BPF_MEM && bpfMode(c) !== BPF_LEN) return false;
    if (cls === BPF_ALU && (bpfOp(c) === BPF_DIV || bpfOp(c) === BPF_MOD)) return false;
  }
  return true;
}

/**
 * Whether follow() asks rejectsOnEveryWay(): only in the loop stage's
 * rounds after the first (optimize.ts runStages). Asked at every undecided
 * test of every run, it cost a fifth of a compile (+21% on the bench's
 * expressions); so, about 3%.
 */
let rejectWays = false;

export function threadRejecting(on: boolean): void {
  rejectWays = on;
}

/** How many blocks rejectsOnEveryWay() may look at, per question. */
const REJECT_BUDGET = 12;
let budget = 0;

/**
 * The `ret #0` every way from `t` ends at, under the facts `f` (tests they
 * decide go one way, the others both), or null. Then `t` itself may be
 * passed for that return: whatever its statements do, a load that falls off
 * the packet or a division by zero rejects too, and nothing after it is
 * run that could accept. (libpcap's optimizer drops such loads: `udp port
 * 53 and udp[10] & 0x80 = 0` after IPv6's port tests, where every way on
 * needs IPv4.)
 */
function rejectsOnEveryWay(t: Block, f: Facts): Block | null {
  if (t.jt === null || t.jf === null) return rejectOf(t);
  if (--budget < 0) return null;
  const info = memoOf(t);
  if (!info.keyed) return null;
  const key = info.whole;
  const d = key !== null && info.decidable ? decide(info.op, info.k >>> 0, info.isConst, info.constA, key, f) : null;
  if (d === null) return bothWaysReject(t, info, f);
  const next = d ? t.jt : t.jf;
  return next.jt === null ? rejectOf(next) : rejectsOnEveryWay(next, learnBoth(f, info, d));
}

/** A return that rejects (`ret #0`): itself, else null. */
function rejectOf(t: Block): Block | null {
  return bpfClass(t.s.code) === BPF_RET && bpfSrc(t.s.code) === BPF_K && t.s.k === 0 ? t : null;
}

/**
 * rejectsOnEveryWay() for a test `t` (its record `info`) that the facts do
 * not decide: both ways must reject. A way that is a return is looked at
 * first, before facts are made for the other: most questions end there, at
 * a return that accepts.
 */
function bothWaysReject(t: Block, info: ThreadMemo, f: Facts): Block | null {
  const { jt, jf } = t;
  if (jt === null || jf === null) return null;
  const rt = jt.jt === null ? rejectOf(jt) : undefined;
  const rf = jf.jt === null ? rejectOf(jf) : undefined;
  if (rt === null || rf === null) return null;
  const r = rt ?? rejectsOnEveryWay(jt, learnBoth(f, info, true));
  return r !== null && (rf ?? rejectsOnEveryWay(jf, learnBoth(f, info, false))) !== null ? r : null;
}

/** A value number's bit in markWays()' masks (a few values share one: the test then only lets more through). */
const bitOf = (key: number): number => 1 << (key & 31);

/**
 * The bits (bitOf) of the values a test on block b's value may be decided
 * by: its own value and those derivedValues() reads for it; all bits when
 * A is a constant there (decided by no fact); none where it cannot be decided.
 */
function decidedBy(m: ThreadMemo): number {
  if (!m.keyed || !m.decidable || m.whole === null) return 0;
  if (m.isConst) return -1;
  let bits = bitOf(m.whole);
  if (!beyondOn()) return bits;
  let from = m.whole;
  for (let d = 0; d < DERIVED_DEPTH; d++) {
    from = derivedFrom(from);
    if (from === 0) break;
    bits |= bitOf(from);
  }
  return bits;
}

/**
 * What rejectsOnEveryWay() may learn below each block, so that it is asked
 * only where it can find something: most questions (nine in ten on random
 * filters) decide no test on the way and fail. Per block, in its record:
 * `down`, the bits of the values any block from it on may be decided by;
 * `repeats`, whether a value tested at one block may decide a test after it
 * (a fact learned on the way). From the last block of `all` (order()) to
 * the first, so a block's successors come first. Threading only moves an
 * edge to a block after it in that order, so what it finds holds (or says
 * more than holds) for the whole walk.
 */
function markWays(all: readonly Block[]): void {
  for (let i = all.length - 1; i >= 0; i--) {
    const b = all[i];
    if (b === undefined) continue;
    const m = memoOf(b);
    if (b.jt === null || b.jf === null) {
      m.down = 0;
      m.repeats = false;
      continue;
    }
    const t = memoOf(b.jt);
    const e = memoOf(b.jf);
    const below = t.down | e.down;
    m.down = below | decidedBy(m);
    m.repeats = t.repeats || e.repeats || (m.keyed && m.test !== null && (bitOf(m.test) & below) !== 0);
  }
}

/** Might rejectsOnEveryWay() decide a test below `t` (undecided under `f`)? If not, every way is open: it would fail. */
function mayDecideBelow(t: Block, f: Facts): boolean {
  const m = memoOf(t);
  if (m.repeats) return true;
  const jt = t.jt;
  const jf = t.jf;
  if (jt === null || jf === null) return false;
  const below = memoOf(jt).down | memoOf(jf).down;
  if (below === 0) return false;
  for (let e = f; e !== null; e = e.next) if ((bitOf(e.key) & below) !== 0) return true;
  return false;
}

export interface Threaded {
  root: Block;
  /** Did any edge (or the entry) change? */
  changed: boolean;
}

/**
 * Follow decided pure tests from `t0` under facts `f0` (keys() has run on
 * every block). `both`: an undecided test that can neither fail nor store
 * (`ld #pktlen; jge #0x4cf`) is passed too where both its ways, followed
 * (without this, so at most one such test deep), end at one block.
 */
function follow(t0: Block, f0: Facts, both = true): Block {
  let t = t0;
  let f = f0;
  for (let guard = 0; guard < 10000; guard++) {
    const { jt, jf } = t;
    if (jt === null || jf === null) return t;
    // A decided block with nothing left to run is just an edge.
    if (jt === jf && t.stmts.length === 0) {
      t = jt;
      continue;
    }
    const info = memoOf(t);
    if (!info.keyed) return t;
    const key = info.whole;
    const d = key !== null && info.decidable ? decide(info.op, info.k >>> 0, info.isConst, info.constA, key, f) : null;
    if (d === null) {
      // Mostly the end: the rules beyond it are out of line, so that this loop stays small.
      const on = both && beyondOn() ? passUndecided(t, info, f) : t;
      if (on === t) return t;
      usedBeyond();
      t = on;
      continue;
    }
    const next = d ? jt : jf;
    // Threading changes no statements, so what keys() found holds.
    const after = memoOf(next);
    if (after.keyed ? after.reads : readsOnEntry(next)) return t;
    f = learnBoth(f, info, d);
    t = next;
  }
  return t;
}

/**
 * Where follow() goes on from a test `t` (its record `info`) that the facts
 * `f` do not decide, by what libpcap's optimizer does not look at
 * (beyond-libpcap.ts): the `ret #0` every way from it ends at
 * (rejectsOnEveryWay), or where both its ways lead when it can neither
 * fail nor store; `t` itself if neither.
 */
function passUndecided(t: Block, info: ThreadMemo, f: Facts): Block {
  if (rejectWays && f !== null && mayDecideBelow(t, f)) {
    // t itself is undecided: counted, as rejectsOnEveryWay() would.
    budget = REJECT_BUDGET - 1;
    const reject = bothWaysReject(t, info, f);
    if (reject !== null) return reject;
  }
  const { jt, jf } = t;
  if (jt === null || jf === null || !free(t)) return t;
  const end = follow(jt, learnBoth(f, info, true), false);
  // Where both ways lead: the test decides nothing on this path.
  if (end === jt || end !== follow(jf, learnBoth(f, info, false), false)) return t;
  const last = memoOf(end);
  if (end.jt !== null && (last.keyed ? last.reads : readsOnEntry(end))) return t;
  return end;
}

/** Thread the graph with this root and order (`all`: order(root)). */
export function thread(root: Block, all: readonly Block[]): Threaded {
  // Keys are value numbers (opt-keys.ts): facts compare them on
  // every step, so they are made (or found memoized) once per block first,
  // and read off the blocks after that. Threading only ever moves an edge to
  // a block reachable from where it pointed, so no block is new to them.
  for (const b of all) keys(b);
  if (rejectWays && beyondOn()) markWays(all);
  let entry = follow(root, emptyFacts());
  let changed = entry !== root;
  // The facts on entry to each block (its record's `facts`, valid where `stamp` is this walk's).
  if (walks === 0x7fffffff) {
    for (const m of memos) m.stamp = 0;
    walks = 0;
  }
  const walk = ++walks;
  const top = memoOf(entry);
  top.stamp = walk;
  top.facts = emptyFacts();
  for (const b of changed ? order(entry) : all) {
    const m = memoOf(b);
    // No edge of this walk leads here (every block before it in the order
    // that did now jumps past it): it is gone from the graph, and its facts
    // would only weaken those of the blocks it pointed to.
    if (m.stamp !== walk) continue;
    const f = m.facts;
    const info = m;
    if (b.jt === null || b.jf === null || !info.keyed) continue;
    // Facts learned from each outcome: learnBoth() for the two at once, each
    // key's newest fact looked up once for both. Nothing is learned for an
    // edge to a return: it would not be read.
    let ft = f;
    let ff = f;
    // A decided block (folding kept its test only for the loads before it) teaches nothing:
    // facts from its outcome would split its one edge again for a test that decides nothing.
    if (info.learns && b.jt !== b.jf) {
      const wantTrue = b.jt.jt !== null;
      const wantFalse = b.jf.jt !== null;
      const { op, k, test, whole } = info;
      if (test !== null) {
        const same = newest(f, test);
        if (wantTrue) ft = fact(test, op, k, true, f, same);
        if (wantFalse) ff = fact(test, op, k, false, f, same);
      }
      if (whole !== null && whole !== test) {
        const same = newest(f, whole);
        if (wantTrue) ft = fact(whole, op, k, true, ft, same);
        if (wantFalse) ff = fact(whole, op, k, false, ff, same);
      }
    }
    const jt = follow(b.jt, ft);
    const jf = follow(b.jf, ff);
    if (jt !== b.jt || jf !== b.jf) {
      changed = true;
      b.jt = jt;
      b.jf = jf;
    }
    factsInto(jt, ft, walk);
    factsInto(jf, ff, walk);
  }
  const last = memoOf(entry);
  if (entry.jt !== null && entry.jf !== null && entry.jt === entry.jf && last.keyed && last.whole !== null && last.isConst) {
    entry = entry.jt;
    changed = true;
  }
  return { root: entry, changed };
}
