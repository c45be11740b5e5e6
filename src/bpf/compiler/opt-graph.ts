// The graph the optimizer's passes share (optimize.ts), and what a pass is:
// one signature for all, with counts of what each changed so that a pass can
// tell whether its input changed since it last ran.
import type { Block } from './block.js';
import { order } from './opt-blocks.js';

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
