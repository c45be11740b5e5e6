// Jump threading for the optimizer (optimize.ts): an edge into a test whose
// outcome the tests on every path to that edge already imply goes straight
// to the outcome. A test is only skipped when its whole block computed the
// same value earlier on the path (so its loads already succeeded) and the
// block it skips to does not read A or X before setting them.
import { BPF_A, BPF_JEQ, BPF_X } from '../insn.js';
import { beyondOn, usedBeyond } from './beyond-libpcap.js';
import type { Block } from './block.js';
import { order, readsOnEntry } from './opt-blocks.js';
import { byHeldEq, decide, fact, meet, newest, type Facts } from './opt-facts.js';
import { markWays, rejectingWays, rejectsFrom } from './opt-reject-ways.js';
import { keys, learnBoth, maskedBounds, memoOf, type ThreadMemo } from './opt-thread-memo.js';

const emptyFacts = (): Facts => null;

/**
 * Facts on entry to t, in the walk's table `into` (by block id; undefined:
 * no edge of the walk leads there yet): those of every edge into it so far.
 * A return reads none (it tests nothing, and has no edge out to pass them
 * on): not kept. The table is made per walk, so it is young like the facts
 * it holds (in the blocks' long-lived records, each store of a fact cost a
 * write barrier's remembered-set entry).
 */
function factsInto(into: (Facts | undefined)[], t: Block, fs: Facts): void {
  if (t.jt === null) return;
  const was = into[t.id];
  into[t.id] = was === undefined ? fs : meet(was, fs);
}

/**
 * readsOnEntry() of a return: one alone (as generated) reads A or X only
 * where it returns it; one with statements is asked in full.
 */
function retReads(r: Block): boolean {
  if (r.stmts.length !== 0) return readsOnEntry(r);
  const src = r.s.code & 0x18;
  return src === BPF_A || src === BPF_X;
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
    // Threading changes no statements, so what keys() found holds. A return is not keyed (thread()
    // leaves them out): asked afresh (retReads()).
    if (next.jt === null ? retReads(next) : memoOf(next).reads) return t;
    // The facts made here are only ever read by decide() (and for their keys, which the held
    // `jeq` has put in already): what it learns from a test its held `jeq` decided is nothing new
    // to it (but a masked value's bounds may be: maskedBounds()).
    if (!byHeldEq || (info.masked !== 0 && d && info.op === BPF_JEQ)) f = learnBoth(f, info, d);
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
  if (rejectingWays() && f !== null) {
    const reject = rejectsFrom(t, info, f);
    if (reject !== null) return reject;
  }
  const { jt, jf } = t;
  if (jt === null || jf === null || !info.free) return t;
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
  // Not the returns: they test nothing and pass no facts on; what follow() asks of one is read off its `ret`.
  let ids = 0;
  for (const b of all) {
    if (b.jt !== null) keys(b);
    if (b.id >= ids) ids = b.id + 1;
  }
  if (rejectingWays() && beyondOn()) markWays(all);
  let entry = follow(root, emptyFacts());
  let changed = entry !== root;
  // The facts on entry to each block (factsInto).
  const into = new Array<Facts | undefined>(ids);
  into[entry.id] = emptyFacts();
  for (const b of changed ? order(entry) : all) {
    const f = into[b.id];
    // No edge of this walk leads here (every block before it in the order
    // that did now jumps past it): it is gone from the graph, and its facts
    // would only weaken those of the blocks it pointed to.
    if (f === undefined) continue;
    const info = memoOf(b);
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
      // keys(): the whole key, when there is one, is the test key; one fact per edge.
      const { op, k, test } = info;
      if (test !== null && (wantTrue || wantFalse)) {
        const same = newest(f, test);
        if (wantTrue) ft = fact(test, op, k, true, f, same);
        if (wantFalse) ff = fact(test, op, k, false, f, same);
        if (wantTrue && info.masked !== 0 && op === BPF_JEQ) ft = maskedBounds(ft, info);
      }
    }
    // An edge to a return goes nowhere else (no call for it: half the edges are such).
    const jt = b.jt.jt === null ? b.jt : follow(b.jt, ft);
    const jf = b.jf.jt === null ? b.jf : follow(b.jf, ff);
    if (jt !== b.jt || jf !== b.jf) {
      changed = true;
      b.jt = jt;
      b.jf = jf;
    }
    factsInto(into, jt, ft);
    factsInto(into, jf, ff);
  }
  const last = memoOf(entry);
  if (entry.jt !== null && entry.jf !== null && entry.jt === entry.jf && last.keyed && last.whole !== null && last.isConst) {
    entry = entry.jt;
    changed = true;
  }
  return { root: entry, changed };
}
