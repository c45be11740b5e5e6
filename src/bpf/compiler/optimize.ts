// The optimizer. It works on the laid-out program, rebuilt into basic
// blocks, and relies on one fact about classic BPF: the packet never
// changes, so a value loaded from it by the same instructions is the same
// every time. Passes:
//  - constant folding and dead statements (fold.ts): `ld #k; jeq #c` and
//    other tests on known values are decided at compile time;
//  - jump threading (opt-thread.ts): an edge into a test whose outcome is
//    already implied by the tests on every path to that edge jumps straight
//    to the outcome (this removes the repeated `ldh [12]; jeq #0x800` of
//    unoptimized code); facts are keyed by the value a block tests, so a
//    block that also stores to scratch memory still informs later tests;
//  - redundant loads: a block whose every predecessor ends by running its
//    very statements keeps only its jump; an `ldx` that X already holds on
//    every path (a dataflow over the graph) goes;
//  - the transport-offset peephole (opt-peep.ts): `ld #c; add x; tax;
//    ld [x + n]` → `ld [x + (n + c)]`;
//  - dead-code removal: blocks no longer reachable are dropped;
//  - merging of equal blocks (same statements, same successors).
// A test is only skipped when an identical load already succeeded on the
// path, so a load that would fall off the packet still rejects; and only
// when the block it skips to does not read A or X before setting them.
// Correctness is checked against the unoptimized program on random packets.
import { BPF_IMM, BPF_JA, BPF_JMP, BPF_LDX, BPF_MEM, BPF_MISC, BPF_MSH, BPF_RET, BPF_ST, BPF_STX, BPF_TAX, bpfClass, bpfOp } from '../insn.js';
import { Block, nextWalk, type Clause, type Stmt } from './block.js';
import { foldBlocks } from './fold.js';
import { linearize, type Linear } from './linearize.js';
import { order, pureStmts, readsOnEntry, selfContained } from './opt-blocks.js';
import { foldRejects, mergeEqual, type Graph } from './opt-merge.js';
import { internReset } from './opt-intern.js';
import { foldIndexBase } from './opt-peep.js';
import { thread } from './opt-thread.js';

/** Linear program → blocks; null if it has shapes we leave alone. */
function toBlocks(l: Linear): Block | null {
  const p = l.insns;
  const leaders = new Set<number>([0]);
  for (let i = 0; i < p.length; i++) {
    const ins = p[i];
    if (ins === undefined) return null;
    const cls = bpfClass(ins.code);
    if (cls === BPF_JMP) {
      if (bpfOp(ins.code) === BPF_JA) return null;
      leaders.add(i + 1 + ins.jt);
      leaders.add(i + 1 + ins.jf);
      leaders.add(i + 1);
    } else if (cls === BPF_RET) {
      leaders.add(i + 1);
    }
  }
  const blocks = new Map<number, Block>();
  const ends = new Map<Block, number>();
  let cur: Block | null = null;
  let stmts: Stmt[] = [];
  let start = 0;
  for (let i = 0; i < p.length; i++) {
    const ins = p[i];
    if (ins === undefined) return null;
    const clause: Clause | undefined = l.clauses[i];
    if (leaders.has(i) && stmts.length > 0) return null; // fall-through into a leader
    if (leaders.has(i)) start = i;
    const cls = bpfClass(ins.code);
    if (cls === BPF_JMP || cls === BPF_RET) {
      cur = new Block(ins.code, ins.k, clause);
      cur.stmts = stmts;
      blocks.set(start, cur);
      ends.set(cur, i);
      stmts = [];
    } else {
      stmts.push({ code: ins.code, k: ins.k, clause });
    }
  }
  if (stmts.length > 0) return null;
  for (const [, b] of blocks) {
    if (bpfClass(b.s.code) !== BPF_JMP) continue;
    const at = ends.get(b) ?? 0;
    const ins = p[at];
    if (ins === undefined) return null;
    const t = blocks.get(at + 1 + ins.jt);
    const f = blocks.get(at + 1 + ins.jf);
    if (t === undefined || f === undefined) return null;
    b.jt = t;
    b.jf = f;
  }
  return blocks.get(0) ?? null;
}

/**
 * Redundant loads: a pure block whose every predecessor ran the same
 * statements (so A and X already hold what they would compute) keeps only
 * its jump. Run last: threading must not add predecessors afterwards.
 * Decided on the statements as they are before any is dropped (a block
 * emptied here still leaves in A and X what they computed, from its
 * predecessors), so first every edge (here), then every block (dropLoads(),
 * from dropRedundantLdx()'s walk). Per block, on the block: `count` its
 * predecessors (mergeStraight() uses them too), `flag` whether each ends
 * with its statements.
 */
function countPredecessors(blocks: readonly Block[]): void {
  for (const b of blocks) {
    b.count = 0;
    b.flag = true;
  }
  for (const p of blocks) {
    const jump = bpfClass(p.s.code) === BPF_JMP;
    if (p.jt !== null) predecessor(p, p.jt, jump);
    if (p.jf !== null && p.jf !== p.jt) predecessor(p, p.jf, jump);
  }
}

/** The second half of the redundant loads (see countPredecessors). */
function dropLoads(b: Block): void {
  if (bpfClass(b.s.code) !== BPF_JMP || b.count === 0 || !b.flag || !pureStmts(b.stmts) || !selfContained(b.stmts, 0)) return;
  // Every predecessor ends by running these very statements: A and X hold their results,
  // and the loads among them already succeeded.
  b.stmts = [];
}

function predecessor(p: Block, s: Block, jump: boolean): void {
  s.count++;
  if (s.flag && !(jump && endsWith(p.stmts, s.stmts))) s.flag = false;
}

function endsWith(list: readonly Stmt[], tail: readonly Stmt[]): boolean {
  if (tail.length > list.length) return false;
  const off = list.length - tail.length;
  for (let i = 0; i < tail.length; i++) {
    const t = tail[i];
    const l = list[off + i];
    if (t === undefined || l?.code !== t.code || l.k >>> 0 !== t.k >>> 0) return false;
  }
  return true;
}

/**
 * X already holds what an `ldx`/`ldxb` would load when, on every path to it,
 * that same instruction was the last to set X: a forward dataflow over the
 * graph (X's "signature" on entry to a block is the one all its predecessors
 * leave, and a block that does not touch X passes its entry value on).
 * The packet never changes, so the load gives the same value again, and it
 * cannot fail where it already succeeded. The same walk drops each block's
 * redundant loads first (dropLoads(), after countPredecessors()).
 */
function dropRedundantLdx(root: Block, blocks: readonly Block[]): void {
  // What last set X, as a number: the statement's code and k (injective: a
  // 16-bit code, a 32-bit k). `ldx M[k]` counts too, until something stores to M[k].
  const xSig = (st: Stmt): number | null =>
    st.code === (BPF_LDX | BPF_MSH | 0x10) || st.code === (BPF_LDX | BPF_IMM) || st.code === (BPF_LDX | BPF_MEM)
      ? st.code * 0x100000000 + (st.k >>> 0)
      : null;
  const memSig = (k: number): number => (BPF_LDX | BPF_MEM) * 0x100000000 + (k >>> 0);
  // X's signature on entry, on the block (`xIn`), valid where `stamp` is this
  // walk's; no stamp: no predecessor seen yet; null: unknown or disagreeing.
  const walk = nextWalk();
  root.stamp = walk;
  root.xIn = null;
  for (const b of blocks) {
    // Each block's redundant loads go first: its predecessors' already have.
    dropLoads(b);
    let cur = b.stamp === walk ? b.xIn : null;
    const stmts = b.stmts;
    // The statements kept, copied at the first one dropped (null: all kept so far).
    let kept: Stmt[] | null = null;
    for (let i = 0; i < stmts.length; i++) {
      const st = stmts[i];
      if (st === undefined) continue;
      const cls = bpfClass(st.code);
      if (cls === BPF_JMP) {
        // Statement lists with jumps of their own (protochain) are not straight-line: leave them.
        kept = null;
        cur = null;
        break;
      }
      if (cls === BPF_LDX || st.code === (BPF_MISC | BPF_TAX)) {
        const sig = xSig(st);
        if (sig !== null && sig === cur) {
          kept ??= stmts.slice(0, i);
          continue;
        }
        cur = sig;
      } else if ((cls === BPF_ST || cls === BPF_STX) && cur === memSig(st.k)) {
        cur = null;
      }
      if (kept !== null) kept.push(st);
    }
    if (kept !== null) b.stmts = kept;
    if (b.jt !== null) xInto(b.jt, cur, walk);
    if (b.jf !== null && b.jf !== b.jt) xInto(b.jf, cur, walk);
  }
}

function xInto(t: Block, cur: number | null, walk: number): void {
  if (t.stamp !== walk) {
    t.stamp = walk;
    t.xIn = cur;
  } else if (t.xIn !== cur) t.xIn = null;
}

/**
 * Join a block whose jump is decided to its successor when it is the only
 * way in. True if any was (else the graph, and its order, are as they were).
 */
function mergeStraight(root: Block, blocks: readonly Block[]): boolean {
  // Predecessor counts on the blocks (`count`): countPredecessors()'s, as no
  // edge has moved since.
  let joined = false;
  for (const b of blocks) {
    for (let guard = 0; guard < 10000; guard++) {
      const c = b.jt;
      if (c === null || c !== b.jf || c === root || c.count !== 1) break;
      b.stmts = b.stmts.concat(c.stmts);
      b.s = c.s;
      b.jt = c.jt;
      b.jf = c.jf;
      c.count = 0;
      joined = true;
    }
  }
  return joined;
}

export function optimize(l: Linear): Linear {
  const root = toBlocks(l);
  if (root === null) return l;
  return optimizeGraph(root, l);
}

/**
 * Optimize a block graph in place (the code generator's, or one rebuilt
 * from a program) and lay it out; `plain` is returned if that is shorter.
 */
export function optimizeGraph(root: Block, plain: Linear): Linear {
  return optimizeGraphAgainst(root, plain.insns.length) ?? plain;
}

/**
 * Optimize a block graph in place and lay it out, or null if the result
 * would be longer than the unoptimized program's `plainLength` instructions.
 * `all`: order(root), when the caller has it already.
 */
export function optimizeGraphAgainst(root: Block, plainLength: number, all: readonly Block[] = order(root)): Linear | null {
  internReset();
  const moved = foldBlocks(all, readsOnEntry);
  // Jump threading carries path facts; on huge generated filters it would
  // grow quadratic, so it is left out there (the other passes still run).
  // Folding only ever drops edges, so a graph no larger than that before it is not huge after.
  const huge = all.length > 2000 && order(root).length > 2000;
  // The graph as the passes leave it (r), and in g the last one whose order
  // is known. An order is passed on where a pass knows it still holds (each
  // walk saved counts: this runs on every compile); folding and merging may
  // drop edges, so a fresh walk after them.
  let r = root;
  let g: Graph = { root, blocks: all };
  // order(r) when a pass left it known, else null.
  let known: readonly Block[] | null = moved ? null : all;
  // Two rounds, unless the first changes nothing after foldRejects: the
  // second would then start from the very graph the first did, and change
  // nothing either (foldRejects leaves its own result as it is).
  let settled = false;
  for (let pass = 0; pass < 2 && !settled; pass++) {
    g = foldRejects(r, known ?? order(r));
    r = g.root;
    let changed = false;
    if (!huge) {
      const t = thread(r, g.blocks);
      r = t.root;
      changed = t.changed;
    }
    const list = changed ? order(r) : g.blocks;
    const m = mergeEqual(r, list);
    r = m.root;
    known = m.changed ? null : list;
    // Settled: the graph is still foldRejects' (r is g.root), and so is its order.
    settled = !changed && !m.changed;
  }
  if (!settled) g = foldRejects(r, known ?? order(r));
  r = g.root;
  // One order for the next three passes (redundant loads, ldx, straight
  // joins): the first two change statements only.
  countPredecessors(g.blocks);
  dropRedundantLdx(r, g.blocks);
  const joined = mergeStraight(r, g.blocks);
  // One order for the peephole (it changes statements only) and folding.
  const merged = joined ? order(r) : g.blocks;
  for (const b of merged) foldIndexBase(b, (b.jt !== null && readsOnEntry(b.jt)) || (b.jf !== null && readsOnEntry(b.jf)));
  const moved2 = foldBlocks(merged, readsOnEntry);
  // Rejects are folded already unless an edge moved since (reject-ness
  // depends on the edges and on which blocks return 0, not on statements).
  if (joined || moved2) g = foldRejects(r, moved2 ? order(r) : merged);
  const m = mergeEqual(g.root, g.blocks);
  const out = linearize(m.root, m.changed ? undefined : g.blocks);
  return out.insns.length <= plainLength ? out : null;
}
