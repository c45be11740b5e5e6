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
import { BPF_IMM, BPF_JA, BPF_JMP, BPF_K, BPF_LDX, BPF_MEM, BPF_MISC, BPF_MSH, BPF_RET, BPF_ST, BPF_STX, BPF_TAX, bpfClass, bpfOp } from '../insn.js';
import { Block, type Clause, type Stmt } from './block.js';
import { foldBlocks } from './fold.js';
import { linearize, type Linear } from './linearize.js';
import { order, pureKey, readsOnEntry, selfContained, stmtsKey } from './opt-blocks.js';
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

function mergeEqual(root: Block): Block {
  const canon = new Map<string, Block>();
  // Statement lists numbered (their memoized strings hash once), so each signature is short.
  const lists = new Map<string, number>();
  const blocks = order(root).reverse();
  // Per block (set below, in this order): `repl` its canonical equal, `num` that one's number.
  for (const b of blocks) b.repl = null;
  let next = 0;
  for (const b of blocks) {
    if (b.jt !== null) b.jt = b.jt.repl ?? b.jt;
    if (b.jf !== null) b.jf = b.jf.repl ?? b.jf;
    const text = stmtsKey(b);
    let list = lists.get(text);
    if (list === undefined) {
      list = lists.size;
      lists.set(text, list);
    }
    const sig = `${String(list)}|${String(b.s.code)}:${String(b.s.k >>> 0)}|${b.jt === null ? '-' : String(b.jt.num)}|${b.jf === null ? '-' : String(b.jf.num)}`;
    const c = canon.get(sig);
    if (c === undefined) {
      canon.set(sig, b);
      b.num = next++;
    } else {
      b.repl = c;
      b.num = c.num;
    }
  }
  return root.repl ?? root;
}

/**
 * Redundant loads: a pure block whose every predecessor ran the same
 * statements (so A and X already hold what they would compute) keeps only
 * its jump. Run last: threading must not add predecessors afterwards.
 */
function dropRedundantLoads(root: Block): void {
  const blocks = order(root);
  const preds = new Map<Block, Block[]>();
  for (const b of blocks) {
    for (const s of [b.jt, b.jf]) {
      if (s === null) continue;
      const list = preds.get(s) ?? [];
      if (!list.includes(b)) list.push(b);
      preds.set(s, list);
    }
  }
  // Each block's statements before any are dropped: a block emptied here
  // still leaves in A (and X) what they computed, from its predecessors.
  const before = new Map<Block, readonly Stmt[]>();
  for (const b of blocks) before.set(b, b.stmts);
  const endsWith = (list: readonly Stmt[], tail: readonly Stmt[]): boolean => {
    if (tail.length > list.length) return false;
    const off = list.length - tail.length;
    return tail.every((t, i) => list[off + i]?.code === t.code && (list[off + i]?.k ?? 0) >>> 0 === t.k >>> 0);
  };
  for (const b of blocks) {
    const ps = preds.get(b) ?? [];
    if (bpfClass(b.s.code) !== BPF_JMP || ps.length === 0 || pureKey(b) === null || !selfContained(b.stmts, 0)) continue;
    // Every predecessor ends by running these very statements: A and X hold their results,
    // and the loads among them already succeeded.
    const mine = b.stmts;
    if (ps.every((p) => bpfClass(p.s.code) === BPF_JMP && endsWith(before.get(p) ?? [], mine))) b.stmts = [];
  }
}

/**
 * A block whose every way out is `ret #0` is itself `ret #0`: its loads can
 * only fail, and failing rejects the packet too. Edges to such blocks go
 * straight to the reject.
 */
function foldRejects(root: Block): Block {
  const blocks = order(root);
  const reject = new Set<Block>();
  let canon: Block | null = null;
  for (const b of [...blocks].reverse()) {
    if (bpfClass(b.s.code) === BPF_RET && (b.s.code & 0x18) === BPF_K && b.s.k === 0) {
      reject.add(b);
      canon ??= b;
    } else if (b.jt !== null && b.jf !== null && reject.has(b.jt) && reject.has(b.jf)) {
      reject.add(b);
    }
  }
  if (canon === null) return root;
  for (const b of blocks) {
    if (b.jt !== null && reject.has(b.jt)) b.jt = canon;
    if (b.jf !== null && reject.has(b.jf)) b.jf = canon;
  }
  return reject.has(root) ? canon : root;
}

/**
 * X already holds what an `ldx`/`ldxb` would load when, on every path to it,
 * that same instruction was the last to set X: a forward dataflow over the
 * graph (X's "signature" on entry to a block is the one all its predecessors
 * leave, and a block that does not touch X passes its entry value on).
 * The packet never changes, so the load gives the same value again, and it
 * cannot fail where it already succeeded.
 */
function dropRedundantLdx(root: Block): void {
  const blocks = order(root);
  // `ldx M[k]` counts too, until something stores to M[k].
  const xSig = (st: Stmt): string | null =>
    st.code === (BPF_LDX | BPF_MSH | 0x10) || st.code === (BPF_LDX | BPF_IMM) || st.code === (BPF_LDX | BPF_MEM)
      ? `${String(st.code)}:${String(st.k >>> 0)}`
      : null;
  const memSig = (k: number): string => `${String(BPF_LDX | BPF_MEM)}:${String(k >>> 0)}`;
  // undefined: no predecessor seen yet; null: unknown or disagreeing.
  const xIn = new Map<Block, string | null>();
  xIn.set(root, null);
  for (const b of blocks) {
    let cur = xIn.get(b) ?? null;
    const kept: Stmt[] = [];
    // Statement lists with jumps of their own (protochain) are not straight-line: leave them.
    const straight = !b.stmts.some((st) => bpfClass(st.code) === BPF_JMP);
    if (!straight) cur = null;
    for (const st of straight ? b.stmts : []) {
      const cls = bpfClass(st.code);
      if (cls === BPF_LDX || st.code === (BPF_MISC | BPF_TAX)) {
        const sig = xSig(st);
        if (sig !== null && sig === cur) continue;
        cur = sig;
      } else if ((cls === BPF_ST || cls === BPF_STX) && cur === memSig(st.k)) {
        cur = null;
      }
      kept.push(st);
    }
    if (straight && kept.length !== b.stmts.length) b.stmts = kept;
    for (const t of new Set([b.jt, b.jf])) {
      if (t === null) continue;
      const prev = xIn.get(t);
      xIn.set(t, prev === undefined ? cur : prev === cur ? prev : null);
    }
  }
}

/** Join a block whose jump is decided to its successor when it is the only way in. */
function mergeStraight(root: Block): void {
  const blocks = order(root);
  const npred = new Map<Block, number>();
  for (const b of blocks) for (const t of new Set([b.jt, b.jf])) if (t !== null) npred.set(t, (npred.get(t) ?? 0) + 1);
  for (const b of blocks) {
    for (let guard = 0; guard < 10000; guard++) {
      const c = b.jt;
      if (c === null || c !== b.jf || c === root || npred.get(c) !== 1) break;
      b.stmts = [...b.stmts, ...c.stmts];
      b.s = c.s;
      b.jt = c.jt;
      b.jf = c.jf;
      npred.set(c, 0);
    }
  }
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
  foldBlocks(order(root), readsOnEntry);
  let r = root;
  // Jump threading carries path facts; on huge generated filters it would
  // grow quadratic, so it is left out there (the other passes still run).
  const huge = order(r).length > 2000;
  for (let pass = 0; pass < 2; pass++) {
    r = foldRejects(r);
    if (!huge) r = thread(r);
    r = mergeEqual(r);
  }
  r = foldRejects(r);
  dropRedundantLoads(r);
  dropRedundantLdx(r);
  mergeStraight(r);
  for (const b of order(r)) foldIndexBase(b, [b.jt, b.jf].some((t) => t !== null && readsOnEntry(t)));
  foldBlocks(order(r), readsOnEntry);
  r = foldRejects(r);
  r = mergeEqual(r);
  const out = linearize(r);
  return out.insns.length <= plain.insns.length ? out : plain;
}
