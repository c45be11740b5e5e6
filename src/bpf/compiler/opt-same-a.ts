// Tests whose one way, followed on through tests of the same A, ends where
// the other way goes: PPP's `ldh [2]; jeq #0x57 jt reject jf next` before
// `next: jeq #0x21 jt accept jf reject` (ip6 ruled out, then IPv4 asked
// for): where A is 0x57, `next` rejects too, so the test decides nothing
// and both its ways go to `next`. The blocks passed have no statements, so
// A is the value the test saw all along and nothing else runs: the program
// is the same on every packet, one jump shorter (the test's block, now
// decided, is joined to the next or passed by; opt-straight.ts).
// The way it replaces runs on through the blocks it passes to the same
// block, so no return stops being reachable: it never makes a program
// `ret #0` by itself, and does not note itself used (beyond-libpcap.ts),
// which would have the compiler optimize such a program again for nothing.
// It is under the switch all the same (it reasons with ranges and bits of
// A, which libpcap's optimizer does not).
import { BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JMP, BPF_JSET, BPF_K, bpfClass, bpfOp, bpfSrc } from '../insn.js';
import { beyondOn } from './beyond-libpcap.js';
import type { Block } from './block.js';

const MAX = 0xffffffff;

/**
 * What one outcome of a test on A says of A: lo <= A <= hi, A != ne (when
 * ne >= 0), A & zero == 0, A & some != 0 (when some != 0).
 */
const known = { lo: 0, hi: MAX, ne: -1, zero: 0, some: 0 };

function learn(op: number, k: number, outcome: boolean): void {
  known.lo = 0;
  known.hi = MAX;
  known.ne = -1;
  known.zero = 0;
  known.some = 0;
  if (op === BPF_JEQ) {
    if (outcome) known.lo = known.hi = k;
    else known.ne = k;
  } else if (op === BPF_JGT) {
    if (outcome) known.lo = k + 1;
    else known.hi = k;
  } else if (op === BPF_JGE) {
    if (outcome) known.lo = k;
    else known.hi = k - 1;
  } else if (outcome) known.some = k;
  else known.zero = k;
}

/** The outcome of `op #k` on an A as `known` says, or null if it may go either way. */
function decide(op: number, k: number): boolean | null {
  const { lo, hi, ne, zero, some } = known;
  if (op === BPF_JEQ) {
    if (k < lo || k > hi || k === ne || (k & zero) !== 0) return false;
    if (lo === hi) return lo === k;
    // A has a bit of `some` that k lacks: not k.
    if (some !== 0 && (some & k) === 0) return false;
    return null;
  }
  if (op === BPF_JGT) return lo > k ? true : hi <= k ? false : null;
  if (op === BPF_JGE) return lo >= k ? true : hi < k ? false : null;
  if (lo === hi) return (lo & k) !== 0;
  // Every bit A may have set is outside k: none in common.
  if ((k & ~zero) >>> 0 === 0) return false;
  // A has a bit of `some`, all of which k has.
  if (some !== 0 && (some & ~k) >>> 0 === 0) return true;
  if (hi < 0x80000000 && k >>> 0 > 0 && hi < lowestBit(k)) return false;
  return null;
}

const lowestBit = (k: number): number => (k & -k) >>> 0;

/** A test of A against a constant, one that may go either way, with the opcode's op; else -1. */
function testOf(b: Block): number {
  if (b.jt === null || b.jf === null || b.jt === b.jf) return -1;
  const c = b.s.code;
  if (bpfClass(c) !== BPF_JMP || bpfSrc(c) !== BPF_K) return -1;
  const op = bpfOp(c);
  return op === BPF_JEQ || op === BPF_JGT || op === BPF_JGE || op === BPF_JSET ? op : -1;
}

/** How many blocks a way is followed through. */
const STEPS = 16;

/** Does the way from `from` end at `to` through blocks with no statements whose tests `known` decides? */
function endsAt(from: Block, to: Block): boolean {
  let cur = from;
  for (let i = 0; i < STEPS; i++) {
    if (cur === to) return true;
    if (cur.stmts.length > 0 || cur.jt === null || cur.jf === null) return false;
    if (cur.jt === cur.jf) {
      cur = cur.jt;
      continue;
    }
    const op = testOf(cur);
    if (op < 0) return false;
    const d = decide(op, cur.s.k >>> 0);
    if (d === null) return false;
    cur = d ? cur.jt : cur.jf;
  }
  return cur === to;
}

/** sameWay()'s answers: no edge to move; jt to go where jf goes; jf to go where jt goes. */
const NONE = 0;
const JT = 1;
const JF = 2;

/** Which edge of b settleSameA() points at the other's block (NONE, JT, JF). */
function sameWay(b: Block): number {
  const { jt, jf } = b;
  if (jt === null || jf === null || jt === jf) return NONE;
  // A first look: one way must start at a block with no statements that tests A.
  const viaF = jf.stmts.length === 0 && jf.jt !== null;
  const viaT = jt.stmts.length === 0 && jt.jt !== null;
  if (!viaF && !viaT) return NONE;
  const op = testOf(b);
  if (op < 0) return NONE;
  const k = b.s.k >>> 0;
  if (viaF) {
    learn(op, k, true);
    if (endsAt(jf, jt)) return JT;
  }
  if (viaT) {
    learn(op, k, false);
    if (endsAt(jt, jf)) return JF;
  }
  return NONE;
}

/** Would settleSameA() move an edge of this block (opt-quiet.ts)? Where it would move none, it moves nothing. */
export function mayRedirect(b: Block): boolean {
  return sameWay(b) !== NONE;
}

/**
 * Point both ways of such tests at the same block, in the graph whose
 * order is `blocks`. True if an edge moved.
 */
export function settleSameA(blocks: readonly Block[]): boolean {
  if (!beyondOn()) return false;
  let moved = false;
  for (const b of blocks) {
    const way = sameWay(b);
    if (way === JT) b.jt = b.jf;
    else if (way === JF) b.jf = b.jt;
    else continue;
    moved = true;
  }
  return moved;
}
