// A rule of jump threading (opt-thread.ts) beyond libpcap's optimizer
// (beyond-libpcap.ts): a test is passed for the `ret #0` that every way
// from it ends at under the facts of the path, whatever its loads, since a
// load that falls off the packet rejects too.
import { isReject, type Block } from './block.js';
import { decide, type Facts } from './opt-facts.js';
import { bitOf, learnBoth, memoOf, type ThreadMemo } from './opt-thread-memo.js';

/**
 * Whether follow() asks rejectsOnEveryWay(): only in the loop stage's
 * rounds after the first (optimize.ts runStages; asked in the first too,
 * it passes tests for a reject before threading has found what the path
 * decides, and the fixed point is a worse one). Asked only where
 * mayDecideBelow() lets it, it costs about 1% of a compile.
 */
let rejectWays = false;

export function threadRejecting(on: boolean): void {
  rejectWays = on;
}

/** Is rejectsOnEveryWay() asked in this walk (threadRejecting)? */
export function rejectingWays(): boolean {
  return rejectWays;
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
  return isReject(t) ? t : null;
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
export function markWays(all: readonly Block[]): void {
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
    m.down = below | m.decidedBy;
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

/**
 * The `ret #0` every way from the undecided test `t` (its record `info`)
 * ends at under the facts `f` (rejectsOnEveryWay), or null; asked only
 * where a test below may be decided (mayDecideBelow), with a budget.
 */
export function rejectsFrom(t: Block, info: ThreadMemo, f: Facts): Block | null {
  if (!mayDecideBelow(t, f)) return null;
  // t itself is undecided: counted, as rejectsOnEveryWay() would.
  budget = REJECT_BUDGET - 1;
  return bothWaysReject(t, info, f);
}
