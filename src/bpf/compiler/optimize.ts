// The optimizer: a pipeline of passes over the code generator's block graph,
// each a function of one signature (Pass, opt-graph.ts; the passes are in
// opt-passes.ts). A Block is the graph alone
// (block.ts); what a pass works out about a block is the pass's own, kept
// in its module in a table indexed by `Block.id` (blocks are numbered from 0
// per graph): per-block records for the memos (fold-memo.ts, opt-thread-memo.ts,
// opt-merge.ts), typed arrays for the numbers of one
// walk (opt-redundant.ts, opt-idle.ts, opt-peep.ts, opt-straight.ts) and for
// walk marks (order() in opt-blocks.ts, opt-stable.ts, linearize.ts). The
// tables are kept between runs, each pass's `start` making room for the
// graph's ids; a memo is compared with the very statement array and jump it
// was made for (never changed in place), so none is emptied per run.
// It relies on one fact about classic BPF: the packet never changes, so a
// value loaded from it by the same instructions is the same every time.
// The passes:
//  - fold (fold.ts, its memos in fold-memo.ts): constant folding and dead
//    statements: `ld #k; jeq #c` and other tests on known values are
//    decided at compile time;
//  - rejects (opt-merge.ts): a block whose every way out is `ret #0` is one;
//  - thread (opt-thread.ts): an edge into a test whose outcome is already
//    implied by the tests on every path to that edge jumps straight to the
//    outcome (this removes the repeated `ldh [12]; jeq #0x800` of
//    unoptimized code); facts are keyed by the value a block tests;
//  - merge (opt-merge.ts): equal blocks (same statements, same successors);
//  - straight (opt-straight.ts): a decided block joins its only successor;
//  - redundant (opt-redundant.ts): value numbering over the graph; a
//    statement that leaves a register with the value it held on every path
//    goes (a load A already holds, an `ldx` X already holds);
//  - peephole (opt-peep.ts): `ld #c; add x; tax; ld [x + n]` → `ld [x + (n + c)]`
//    (then redundant again: the `ldxb` the peephole leaves may be one X holds);
//  - same-a (opt-same-a.ts): a test whose one way, through tests of the
//    same A, ends where its other way goes, sends both ways there;
//  - cover (opt-cover.ts): a packet load nothing reads goes where a later load
//    needing at least as many bytes is made on every way that can accept
//    (under the beyond-libpcap switch);
//  - fold-last: folding again, with what a block reads on some way on kept
//    alive (opt-live.ts): after the redundant pass a block may read what a
//    block two edges back left in X.
// They run in three stages (PIPELINE): folding, then rejects, threading and
// merging repeated to a fixed point (as libpcap's opt_loop repeats its
// passes until nothing changes; bounded by MAX_ROUNDS), then the passes that must come after
// threading (which would add predecessors), a last fold and cover, merge, and the
// redundant pass once more: that fold drops the dead stores that kept a
// block which recomputes what the registers hold from being seen to be one
// (`ldh [2]; st M[3]; …; ld M[3]; sub x` again after the same comparison).
// In the last stage, peephole, same-a, straight, fold-last and cover are
// skipped together where one walk shows each would change nothing
// (opt-quiet.ts; PIPELINE.quiet): most graphs give them nothing to do.
// A test is only skipped when an identical load already succeeded on the
// path, so a load that would fall off the packet still rejects; and only
// when the block it skips to does not read A or X before setting them.
// Correctness is checked against the unoptimized program on random packets.
import type { Block } from './block.js';
import { linearize, type Linear } from './linearize.js';
import { order } from './opt-blocks.js';
import { OptGraph, type Pass } from './opt-graph.js';
import {
  coverPass, foldPass, idlePass, lastFoldPass, mergePass, passesDone, peepholePass, redundantPass, rejectsPass, sameAPass, straightPass,
  threadPass,
} from './opt-passes.js';
import { threadRejecting } from './opt-reject-ways.js';
import { setStableValues } from './opt-keys.js';
import { tailQuiet } from './opt-quiet.js';
import { setWordsUsed } from './opt-redundant.js';
import { stableMemoryOf, stableStorers, wordsStored } from './opt-stable.js';
import { vnReset } from './opt-values.js';

/**
 * The pipeline. `loop` is repeated until a round in which no pass after its
 * first changed anything: its first pass (rejects) leaves its own result as
 * it is, so another round would start from the same graph and change
 * nothing either. At most MAX_ROUNDS rounds (libpcap's opt_loop has no bound;
 * one is kept so that no input can make compiling slow). Two rounds, the
 * old fixed number, left 196 of 7,600 random expressions longer than the
 * fixed point does, and 17 contradictions unproven.
 */
export const PIPELINE: Pipeline = {
  first: [foldPass],
  loop: [rejectsPass, idlePass, threadPass, mergePass],
  last: [rejectsPass, redundantPass, peepholePass, sameAPass, straightPass, lastFoldPass, coverPass, rejectsPass, mergePass, redundantPass],
  quiet: { passes: [peepholePass, sameAPass, straightPass, lastFoldPass, coverPass], holds: tailQuiet },
};

export interface Pipeline {
  readonly first: readonly Pass[];
  readonly loop: readonly Pass[];
  readonly last: readonly Pass[];
  /**
   * Passes that follow one another in `last` and that one walk (`holds`,
   * on the graph's order) can show would each change nothing: where it
   * does, they are skipped together (opt-quiet.ts).
   */
  readonly quiet?: { readonly passes: readonly Pass[]; readonly holds: (blocks: readonly Block[]) => boolean };
}

const MAX_ROUNDS = 10;

/** The pipeline whose passes' tables were last made ready (Pass.start), and for how many block ids. */
let readyFor: Pipeline | null = null;
let readyIds = 0;
/** Where that pipeline's quiet passes start in its `last` (-1: it has none there). */
let quietAt = -1;

/** Where `quiet`'s passes follow one another in `last`, or -1. */
function quietIndex(pipeline: Pipeline): number {
  const q = pipeline.quiet?.passes;
  if (q === undefined || q.length === 0) return -1;
  const last = pipeline.last;
  for (let i = 0; i + q.length <= last.length; i++) {
    let j = 0;
    while (j < q.length && last[i + j] === q[j]) j++;
    if (j === q.length) return i;
  }
  return -1;
}

/** Run the pipeline on the graph in place. */
export function runPipeline(g: OptGraph, pipeline: Pipeline = PIPELINE): void {
  vnReset();
  const initial = g.blocks();
  // Every pass's tables made ready for this graph's ids.
  let ids = 0;
  for (const b of initial) if (b.id >= ids) ids = b.id + 1;
  // The passes' tables only ever grow: once made ready for this pipeline and
  // as many ids, they need nothing more (a dozen calls saved per compile).
  if (pipeline !== readyFor || ids > readyIds) {
    for (const p of pipeline.first) p.start(ids);
    for (const p of pipeline.loop) p.start(ids);
    for (const p of pipeline.last) p.start(ids);
    readyFor = pipeline;
    readyIds = ids;
    quietAt = quietIndex(pipeline);
  }
  try {
    runStages(g, pipeline, initial);
  } finally {
    passesDone();
  }
}

function runStages(g: OptGraph, pipeline: Pipeline, initial: readonly Block[]): void {
  for (const p of pipeline.first) p.run(g);
  // The scratch words stable across the graph, found after the first fold
  // (which reads none of this): folding has dropped the stores nothing
  // reads, which arithmetic makes many of, so there are fewer to look at.
  const stable = stableMemoryOf(g.root, g.blocks());
  // A word never stored only ever holds 0: its loads need no slot (the redundant pass numbers them afresh).
  setWordsUsed(wordsStored);
  setStableValues(stable === 0 ? [] : stableStorers(stable), stable);
  // Folding only ever drops edges, so a graph no larger than that before it is not huge after.
  g.huge = initial.length > 2000 && g.blocks().length > 2000;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    // From the second round on (opt-reject-ways.ts threadRejecting says why).
    threadRejecting(round > 0);
    let changed = false;
    const loop = pipeline.loop;
    for (let i = 0; i < loop.length; i++) {
      if (loop[i]?.run(g) === true && i > 0) changed = true;
    }
    if (!changed) break;
  }
  threadRejecting(false);
  const last = pipeline.last;
  const quiet = pipeline.quiet;
  for (let i = 0; i < last.length; i++) {
    if (i === quietAt && quiet?.holds(g.blocks()) === true) {
      i += quiet.passes.length - 1;
      continue;
    }
    last[i]?.run(g);
  }
}

/**
 * Optimize a block graph in place and lay it out, or null if the result
 * would be longer than the unoptimized program's `plainLength` instructions.
 * `all`: order(root), when the caller has it already.
 */
export function optimizeGraphAgainst(root: Block, plainLength: number, all: readonly Block[] = order(root)): Linear | null {
  const g = new OptGraph(root, all);
  runPipeline(g);
  const out = linearize(g.root, g.knownOrder());
  return out.insns.length <= plainLength ? out : null;
}
