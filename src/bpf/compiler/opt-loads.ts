// Two optimizer passes (optimize.ts) about loads the packet already
// answered, and one that joins straight-line blocks. The packet never
// changes, so a value loaded by the same instructions is the same every
// time, and a load that succeeded once cannot fail the second time:
//  - redundant loads: a pure block whose every predecessor ends by running
//    its very statements keeps only its jump; an `ldx` that X already holds
//    on every path (a dataflow over the graph) goes;
//  - straight joins: a block whose jump is decided is joined to its
//    successor when it is the only way in.
// Their scratch per block is on the block (`count`, `flag`, `stamp`, `xIn`):
// keeping it in tables of their own cost the optimizer ~20% (block-tables
// experiment, issue 14), as every table read is a module binding, a property
// and an element where a field is one load.
import { BPF_IMM, BPF_JMP, BPF_LDX, BPF_MEM, BPF_MISC, BPF_MSH, BPF_ST, BPF_STX, BPF_TAX, bpfClass } from '../insn.js';
import { nextWalk, type Block, type Stmt } from './block.js';
import { pureStmts, selfContained } from './opt-blocks.js';

/**
 * Redundant loads: a pure block whose every predecessor ran the same
 * statements (so A and X already hold what they would compute) keeps only
 * its jump. Run late: threading must not add predecessors afterwards.
 * Decided on the statements as they are before any is dropped (a block
 * emptied here still leaves in A and X what they computed, from its
 * predecessors), so first every edge (here), then every block (dropLoads(),
 * from dropRedundantLdx()'s walk). Per block, on the block: `count` its
 * predecessors, `flag` whether each ends with its statements.
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
export function mergeStraight(root: Block, blocks: readonly Block[]): boolean {
  // Its own count of each block's predecessors (`count`, on the block).
  for (const b of blocks) b.count = 0;
  for (const p of blocks) {
    if (p.jt !== null) p.jt.count++;
    if (p.jf !== null && p.jf !== p.jt) p.jf.count++;
  }
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

/** Both redundant-load removals, over the graph with this root and order. Changes statements only. */
export function dropRedundantLoads(root: Block, blocks: readonly Block[]): void {
  countPredecessors(blocks);
  dropRedundantLdx(root, blocks);
}
