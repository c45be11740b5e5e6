// The optimizer: a pipeline of passes over the code generator's block graph,
// each a function of one signature (Pass). A Block is the graph alone
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
// A test is only skipped when an identical load already succeeded on the
// path, so a load that would fall off the packet still rejects; and only
// when the block it skips to does not read A or X before setting them.
// Correctness is checked against the unoptimized program on random packets.
import type { Block } from './block.js';
import { foldBlocks, foldTouched } from './fold.js';
import { foldStart } from './fold-memo.js';
import { linearize, type Linear } from './linearize.js';
import { order, readsOnEntry } from './opt-blocks.js';
import { mergeStraight, skipEmpty, straightStart } from './opt-straight.js';
import { foldRejects, mergeEqual, mergeStart } from './opt-merge.js';
import { emptyIdle, idleStart } from './opt-idle.js';
import { coverStart, dropCovered } from './opt-cover.js';
import { readsOnSomeWay } from './opt-live.js';
import { settleSameA } from './opt-same-a.js';
import { peephole, peepStart } from './opt-peep.js';
import { stableMemoryOf, stableStorers, wordsStored } from './opt-stable.js';
import { setStableValues } from './opt-keys.js';
import { dropRedundant, entryWordBound, entryXBound, redundantStart, setWordsUsed } from './opt-redundant.js';
import { vnReset } from './opt-values.js';
import { thread } from './opt-thread.js';
import { threadStart } from './opt-thread-memo.js';
import { threadRejecting } from './opt-reject-ways.js';

/**
 * The graph the passes share: its root and, when no pass has moved an edge
 * since it was walked, its order (order(root), each block before its
 * successors), so that a pass walks it only when it must.
 */
export class OptGraph {
  root: Block;
  private known: readonly Block[] | null;
  /** How many times a pass has moved an edge or the root: a pass can tell whether the graph changed since it last ran. */
  edges = 0;
  /** How many times a pass has replaced statements or a jump without moving an edge (or along with it): with `edges`, whether a pass's input changed. */
  stmts = 0;
  /** Jump threading carries path facts; on huge generated filters it would grow quadratic, so it is left out there. */
  huge = false;

  constructor(root: Block, blocks: readonly Block[] | null) {
    this.root = root;
    this.known = blocks;
  }

  /** order(root), walked only if a pass has moved an edge since the last walk. */
  blocks(): readonly Block[] {
    this.known ??= order(this.root);
    return this.known;
  }

  /** The order if it is known without a walk. */
  knownOrder(): readonly Block[] | undefined {
    return this.known ?? undefined;
  }

  /** A pass moved edges (and perhaps the root): the order must be walked again. */
  moved(root: Block = this.root): void {
    this.root = root;
    this.known = null;
    this.edges++;
  }

  /** A pass replaced statements (or a block's jump). */
  touched(): void {
    this.stmts++;
  }

  /** A pass moved edges and knows the order after it. */
  reordered(root: Block, blocks: readonly Block[]): void {
    this.root = root;
    this.known = blocks;
    this.edges++;
  }
}

/**
 * One optimizer pass: changes the graph in place; true if it moved an edge
 * or the root. A pass reports what it changes (OptGraph.moved, reordered,
 * touched): passes skip work on a graph whose counts say nothing changed.
 * Its state per block is its own, in tables indexed by Block.id: `start`
 * makes them ready for a run on a graph whose ids are below `ids`, before
 * any pass of the run.
 */
export interface Pass {
  readonly name: string;
  start(ids: number): void;
  run(g: OptGraph): boolean;
}

/** Constant folding and dead statements (fold.ts). */
export const foldPass: Pass = {
  name: 'fold',
  start: foldStart,
  run(g) {
    const moved = foldBlocks(g.blocks(), readsOnEntry);
    if (foldTouched) g.touched();
    if (moved) g.moved();
    return moved;
  },
};

// The pass's own state: the graph it last ran on, and that graph's edge count
// then. Rejects depend on the edges and on which blocks return 0, not on
// statements, so with no edge moved since, the pass would change nothing.
// (Not a WeakMap: two lookups of one would cost ~3% of a compile.)
let rejectsGraph: OptGraph | null = null;
let rejectsEdges = -1;

/** Blocks that can only reject become the one `ret #0` (opt-merge.ts). */
export const rejectsPass: Pass = {
  name: 'rejects',
  start: mergeStart,
  run(g) {
    if (rejectsGraph === g && rejectsEdges === g.edges) return false;
    const before = g.blocks();
    const r = foldRejects(g.root, before);
    const changed = r.root !== g.root || r.blocks !== before;
    if (changed) g.reordered(r.root, r.blocks);
    rejectsGraph = g;
    rejectsEdges = g.edges;
    return changed;
  },
};

/**
 * A pass's own state: the graph on which it last changed nothing, and that
 * graph's edge and statement counts then. A pass that depends on nothing
 * but the edges, the statements and the jumps (threading, merging) would
 * change nothing again while those counts stand: the fixed-point loop's
 * last round, which only confirms that nothing changes, mostly finds them so.
 */
class NothingToDo {
  private graph: OptGraph | null = null;
  private edges = -1;
  private stmts = -1;

  holds(g: OptGraph): boolean {
    return this.graph === g && this.edges === g.edges && this.stmts === g.stmts;
  }

  note(g: OptGraph): void {
    this.graph = g;
    this.edges = g.edges;
    this.stmts = g.stmts;
  }

  forget(): void {
    this.graph = null;
  }
}

const threadIdle = new NothingToDo();
const mergeIdle = new NothingToDo();
const redundantIdle = new NothingToDo();

/** Jump threading (opt-thread.ts). */
export const threadPass: Pass = {
  name: 'thread',
  start: threadStart,
  run(g) {
    if (g.huge || threadIdle.holds(g)) return false;
    const t = thread(g.root, g.blocks());
    if (t.changed) g.moved(t.root);
    else threadIdle.note(g);
    return t.changed;
  },
};

/** Merging of equal blocks (opt-merge.ts). */
export const mergePass: Pass = {
  name: 'merge',
  start: mergeStart,
  run(g) {
    if (mergeIdle.holds(g)) return false;
    const m = mergeEqual(g.root, g.blocks());
    if (m.changed) g.moved(m.root);
    else mergeIdle.note(g);
    return m.changed;
  },
};

/** Statements that leave a register as it was (opt-redundant.ts): statements only. */
export const redundantPass: Pass = {
  name: 'redundant',
  start(ids) {
    redundantStart(ids);
    idleStart(ids);
  },
  run(g) {
    // Its second run in the last stage: only if a pass after the first changed the graph.
    if (redundantIdle.holds(g)) return false;
    // A decided block emptied here is passed by, which may leave another decided (its edges now one): again.
    let moved = false;
    // It ends with a dropRedundant() over the graph as it is: the peephole reads X's bounds from it.
    for (let round = 0; ; round++) {
      if (dropRedundant(g.blocks())) g.touched();
      if (!emptyIdle(g.blocks())) break;
      g.touched();
      if (round >= 8) break;
      const root = skipEmpty(g.root, g.blocks());
      if (root === null) break;
      g.moved(root);
      moved = true;
    }
    redundantIdle.note(g);
    return moved;
  },
};

/** Decided blocks that do nothing are emptied and passed by (opt-idle.ts, opt-straight.ts). */
export const idlePass: Pass = {
  name: 'idle',
  start: idleStart,
  run(g) {
    if (!emptyIdle(g.blocks())) return false;
    g.touched();
    const root = skipEmpty(g.root, g.blocks());
    if (root === null) return false;
    g.moved(root);
    return true;
  },
};

/** Joins of decided blocks to their only successor (opt-straight.ts). */
export const straightPass: Pass = {
  name: 'straight',
  start: straightStart,
  run(g) {
    const root = skipEmpty(g.root, g.blocks());
    if (root !== null) g.moved(root);
    const joined = mergeStraight(g.root, g.blocks());
    if (joined) {
      g.touched();
      g.moved();
    }
    return joined || root !== null;
  },
};

/** The transport-offset peephole (opt-peep.ts), right after redundantPass (X's bounds are from its run): statements only. */
export const peepholePass: Pass = {
  name: 'peephole',
  start(ids) {
    peepStart(ids);
    // Reads X's bounds from the redundant pass's tables.
    redundantStart(ids);
  },
  run(g) {
    // The `ldxb` the peephole leaves may be one X already holds: redundant again, if it did anything.
    if (peephole(g.blocks(), entryXBound, entryWordBound)) {
      g.touched();
      dropRedundant(g.blocks());
    }
    return false;
  },
};

/**
 * Loads a later load covers on every way that can accept (opt-cover.ts),
 * after the last fold. Where some go, the decided blocks left are passed
 * by or joined to their successor, and the last fold runs again: the statements that computed
 * their indexes go, tests may be left deciding nothing, and more loads may
 * be dead (at most three times: most graphs have no such load at all).
 */
export const coverPass: Pass = {
  name: 'cover',
  start: coverStart,
  run(g) {
    let moved = false;
    for (let round = 0; round < 3 && dropCovered(g.blocks()); round++) {
      g.touched();
      if (straightPass.run(g)) moved = true;
      if (lastFoldPass.run(g)) moved = true;
    }
    return moved;
  },
};

/** Tests whose one way, through tests of the same A, ends where the other goes (opt-same-a.ts): edges only. */
export const sameAPass: Pass = {
  name: 'same-a',
  start() {
    // No state of its own.
  },
  run(g) {
    if (!settleSameA(g.blocks())) return false;
    g.moved();
    return true;
  },
};

/**
 * Folding again after the redundant pass (the last stage): a block may now
 * read a register that a block further back set (opt-live.ts), so what the
 * sweep keeps alive is what is read on some way on, not only by the next
 * block.
 */
export const lastFoldPass: Pass = {
  name: 'fold-last',
  start: foldStart,
  run(g) {
    const moved = foldBlocks(g.blocks(), readsOnSomeWay());
    if (foldTouched) g.touched();
    if (moved) g.moved();
    return moved;
  },
};

/**
 * The pipeline. `loop` is repeated until a round in which no pass after its
 * first changed anything: its first pass (rejects) leaves its own result as
 * it is, so another round would start from the same graph and change
 * nothing either. At most MAX_ROUNDS rounds (libpcap's opt_loop has no bound;
 * one is kept so that no input can make compiling slow). Two rounds, the
 * old fixed number, left 196 of 7,600 random expressions longer than the
 * fixed point does, and 17 contradictions unproven.
 */
export const PIPELINE: { readonly first: readonly Pass[]; readonly loop: readonly Pass[]; readonly last: readonly Pass[] } = {
  first: [foldPass],
  loop: [rejectsPass, idlePass, threadPass, mergePass],
  last: [rejectsPass, redundantPass, peepholePass, sameAPass, straightPass, lastFoldPass, coverPass, rejectsPass, mergePass, redundantPass],
};

const MAX_ROUNDS = 10;

/** The pipeline whose passes' tables were last made ready (Pass.start), and for how many block ids. */
let readyFor: typeof PIPELINE | null = null;
let readyIds = 0;

/** Run the pipeline on the graph in place. */
export function runPipeline(g: OptGraph, pipeline = PIPELINE): void {
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
  }
  try {
    runStages(g, pipeline, initial);
  } finally {
    threadRejecting(false);
    rejectsGraph = null;
    threadIdle.forget();
    mergeIdle.forget();
    redundantIdle.forget();
  }
}

function runStages(g: OptGraph, pipeline: typeof PIPELINE, initial: readonly Block[]): void {
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
    // From the second round on (opt-reject-ways.ts): asked in every run it costs a fifth of a compile.
    threadRejecting(round > 0);
    let changed = false;
    const loop = pipeline.loop;
    for (let i = 0; i < loop.length; i++) {
      if (loop[i]?.run(g) === true && i > 0) changed = true;
    }
    if (!changed) break;
  }
  threadRejecting(false);
  for (const p of pipeline.last) p.run(g);
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
