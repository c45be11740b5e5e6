// The optimizer's passes (optimize.ts runs them as its PIPELINE), each a
// Pass (opt-graph.ts) around the module that does the work, with what it
// needs to know to skip a run that would change nothing.
import { foldBlocks, foldTouched } from './fold.js';
import { foldStart } from './fold-memo.js';
import { readsOnEntry } from './opt-blocks.js';
import { coverStart, dropCovered } from './opt-cover.js';
import type { OptGraph, Pass } from './opt-graph.js';
import { emptyIdle, idleStart } from './opt-idle.js';
import { readsOnSomeWay } from './opt-live.js';
import { foldRejects, mergeDone, mergeEqual, mergeStart, stillUnlike } from './opt-merge.js';
import { peephole, peepStart } from './opt-peep.js';
import { dropRedundant, entryWordBound, entryXBound, redundantStart } from './opt-redundant.js';
import { threadRejecting } from './opt-reject-ways.js';
import { settleSameA } from './opt-same-a.js';
import { mergeStraight, skipEmpty, straightStart } from './opt-straight.js';
import { thread } from './opt-thread.js';
import { threadStart } from './opt-thread-memo.js';

/**
 * How many fold runs replaced statements or a jump: the only passes that
 * rewrite a block's jump without moving an edge (mergeUnlike below).
 */
let foldTouches = 0;

/** Constant folding and dead statements (fold.ts). */
export const foldPass: Pass = {
  name: 'fold',
  start: foldStart,
  run(g) {
    const moved = foldBlocks(g.blocks(), readsOnEntry);
    if (foldTouched) {
      g.touched();
      foldTouches++;
    }
    if (moved) g.moved();
    return moved;
  },
};

/**
 * The optimizer run under way (passesDone() starts the next one). A run
 * works on one graph (runPipeline()'s): a pass's note of the graph it last
 * ran on is the run's number, not the graph (a number stored in these
 * long-lived notes costs no write barrier; a new graph would, every time).
 */
let run = 1;

// The pass's own state: the run it last ran in, and its graph's edge count
// then. Rejects depend on the edges and on which blocks return 0, not on
// statements, so with no edge moved since, the pass would change nothing.
// (Not a WeakMap: two lookups of one would cost ~3% of a compile.)
let rejectsRun = 0;
let rejectsEdges = -1;

/** Blocks that can only reject become the one `ret #0` (opt-merge.ts). */
export const rejectsPass: Pass = {
  name: 'rejects',
  start: mergeStart,
  run(g) {
    if (rejectsRun === run && rejectsEdges === g.edges) return false;
    const before = g.blocks();
    const r = foldRejects(g.root, before);
    const changed = r.root !== g.root || r.blocks !== before;
    if (changed) g.reordered(r.root, r.blocks);
    rejectsRun = run;
    rejectsEdges = g.edges;
    return changed;
  },
};

/**
 * A pass's own state: the run (its graph) in which it last changed nothing,
 * and the graph's edge and statement counts then. A pass that depends on nothing
 * but the edges, the statements and the jumps (threading, merging) would
 * change nothing again while those counts stand: the fixed-point loop's
 * last round, which only confirms that nothing changes, mostly finds them so.
 */
class NothingToDo {
  /** The run (`run`) it was noted in. */
  private run = 0;
  private edges = -1;
  private stmts = -1;

  holds(g: OptGraph): boolean {
    return this.run === run && this.edges === g.edges && this.stmts === g.stmts;
  }

  note(g: OptGraph): void {
    this.run = run;
    this.edges = g.edges;
    this.stmts = g.stmts;
  }
}

const threadIdle = new NothingToDo();
const mergeIdle = new NothingToDo();
const redundantIdle = new NothingToDo();

// Merging's other note: the run (its graph) in which it last changed
// nothing, with the edge count and foldTouches then. While those stand, only statements
// have changed since (no pass but folding rewrites a jump without moving an
// edge): merging would change nothing unless two blocks with the same jump
// and successors now have the same statements (opt-merge.ts stillUnlike()).
let unlikeRun = 0;
let unlikeEdges = -1;
let unlikeFolds = -1;

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
    if (unlikeRun === run && unlikeEdges === g.edges && unlikeFolds === foldTouches && stillUnlike(g.blocks())) return false;
    const m = mergeEqual(g.root, g.blocks());
    if (m.changed) {
      g.moved(m.root);
      unlikeRun = 0;
    } else {
      mergeIdle.note(g);
      unlikeRun = run;
      unlikeEdges = g.edges;
      unlikeFolds = foldTouches;
    }
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
    if (foldTouched) {
      g.touched();
      foldTouches++;
    }
    if (moved) g.moved();
    return moved;
  },
};

/** After an optimizer run: the passes' notes of its graph (by the run's number), and the threading switch, forgotten. */
export function passesDone(): void {
  threadRejecting(false);
  run++;
  mergeDone();
}
