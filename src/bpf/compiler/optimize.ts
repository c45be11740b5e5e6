// The optimizer. It works on the laid-out program, rebuilt into basic
// blocks, and relies on one fact about classic BPF: the packet never
// changes, so a value loaded from it by the same instructions is the same
// every time. Passes:
//  - constant folding: `ld #k; jeq #c` and other tests on known values are
//    decided at compile time;
//  - jump threading: an edge into a test whose outcome is already implied by
//    the tests on every path to that edge jumps straight to the outcome
//    (this removes the repeated `ldh [12]; jeq #0x800` of unoptimized code);
//  - dead-code removal: blocks no longer reachable are dropped;
//  - merging of equal blocks (same statements, same successors).
// A test is only skipped when an identical load already succeeded on the
// path, so a load that would fall off the packet still rejects; and only
// when the block it skips to does not read A or X before setting them.
// Correctness is checked against the unoptimized program on random packets.
import {
  BPF_ABS, BPF_ALU, BPF_IMM, BPF_IND, BPF_JA, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JMP, BPF_JSET, BPF_K, BPF_LD, BPF_LDX, BPF_LEN,
  BPF_MISC, BPF_MSH, BPF_NEG, BPF_RET, BPF_ST, BPF_STX, BPF_TAX, BPF_TXA, BPF_X, bpfClass, bpfMode, bpfOp, bpfSrc,
} from '../insn.js';
import { Block, type Clause, type Stmt } from './block.js';
import { foldBlocks } from './fold.js';
import { linearize, type Linear } from './linearize.js';

/**
 * What the tests on the way to a block say about packet values: an
 * immutable list (shared tails, so learning a fact costs one node).
 */
interface Fact {
  key: string;
  op: number;
  k: number;
  outcome: boolean;
  id: string;
  next: Fact | null;
}
type Facts = Fact | null;

const emptyFacts = (): Facts => null;


/** Facts true on both paths (entries present in both lists). */
function meet(a: Facts, b: Facts): Facts {
  if (a === b) return a;
  const inB = new Set<string>();
  for (let f = b; f !== null; f = f.next) inB.add(f.id);
  const keep: Fact[] = [];
  for (let f = a; f !== null; f = f.next) if (inB.has(f.id)) keep.push(f);
  let out: Facts = null;
  for (let i = keep.length - 1; i >= 0; i--) {
    const f = keep[i];
    if (f === undefined) continue;
    out = { ...f, next: out };
  }
  return out;
}

const PURE_CODES = new Set<number>();
for (const size of [0x00, 0x08, 0x10]) {
  PURE_CODES.add(BPF_LD | BPF_ABS | size);
  PURE_CODES.add(BPF_LD | BPF_IND | size);
}
PURE_CODES.add(BPF_LD | BPF_IMM);
PURE_CODES.add(BPF_LD | BPF_LEN);
PURE_CODES.add(BPF_LDX | BPF_IMM);
PURE_CODES.add(BPF_LDX | BPF_MSH | 0x10);
PURE_CODES.add(BPF_MISC | BPF_TAX);
PURE_CODES.add(BPF_MISC | BPF_TXA);

/** A block computing A purely from the packet: its statements are its key. */
function pureKey(b: Block): string | null {
  if (b.stmts.length === 0) return null;
  let xSet = false;
  for (const s of b.stmts) {
    const c = s.code;
    if (bpfClass(c) === BPF_ALU) {
      if (bpfSrc(c) === BPF_X || bpfOp(c) === BPF_NEG) {
        if (!xSet && bpfSrc(c) === BPF_X) return null;
      }
      continue;
    }
    if (!PURE_CODES.has(c)) return null;
    if (bpfClass(c) === BPF_LDX) xSet = true;
    if ((bpfMode(c) === BPF_IND || c === (BPF_MISC | BPF_TXA)) && !xSet) return null;
  }
  return b.stmts.map((s) => `${String(s.code)}:${String(s.k >>> 0)}`).join(',');
}

/** Does the block read A or X (or scratch memory) before setting them? */
function readsOnEntry(b: Block): boolean {
  let aSet = false;
  let xSet = false;
  for (const s of [...b.stmts, b.s]) {
    const c = s.code;
    const cls = bpfClass(c);
    if (cls === BPF_LD) {
      if (bpfMode(c) === BPF_IND && !xSet) return true;
      aSet = true;
    } else if (cls === BPF_LDX) {
      xSet = true;
    } else if (cls === BPF_ST) {
      if (!aSet) return true;
    } else if (cls === BPF_STX) {
      if (!xSet) return true;
    } else if (cls === BPF_ALU || cls === BPF_JMP) {
      if (!aSet && !(cls === BPF_JMP && bpfOp(c) === BPF_JA)) return true;
      if (bpfSrc(c) === BPF_X && !xSet) return true;
    } else if (cls === BPF_RET) {
      if ((c & 0x18) === 0x10 && !aSet) return true;
      if ((c & 0x18) === BPF_X && !xSet) return true;
    } else if (c === (BPF_MISC | BPF_TAX)) {
      if (!aSet) return true;
      xSet = true;
    } else if (c === (BPF_MISC | BPF_TXA)) {
      if (!xSet) return true;
      aSet = true;
    }
  }
  return false;
}

/** The constant A a pure block ends with, if it is one (`ld #k`, ALU K ops). */
function constantA(b: Block): number | null {
  const first = b.stmts[0];
  if (first?.code !== (BPF_LD | BPF_IMM)) return null;
  if (b.stmts.length !== 1) return null;
  return first.k >>> 0;
}

/** Outcome of b's test given the facts, or null if unknown. */
function decide(b: Block, key: string, f: Facts): boolean | null {
  const c = b.s.code;
  if (bpfSrc(c) !== BPF_K || bpfClass(c) !== BPF_JMP) return null;
  const k = b.s.k >>> 0;
  const op = bpfOp(c);
  let eq: number | undefined = constantA(b) ?? undefined;
  let lo = 0;
  let hi = 0xffffffff;
  const ne = new Set<number>();
  const jsetT = new Set<number>();
  const jsetF: number[] = [];
  for (let e = f; e !== null && eq === undefined; e = e.next) {
    if (e.key !== key) continue;
    switch (e.op) {
      case BPF_JEQ:
        if (e.outcome) eq = e.k;
        else ne.add(e.k);
        break;
      case BPF_JGT:
        if (e.outcome) lo = Math.max(lo, e.k + 1);
        else hi = Math.min(hi, e.k);
        break;
      case BPF_JGE:
        if (e.outcome) lo = Math.max(lo, e.k);
        else hi = Math.min(hi, e.k - 1);
        break;
      case BPF_JSET:
        if (e.outcome) jsetT.add(e.k);
        else jsetF.push(e.k);
        break;
      default:
        break;
    }
  }
  if (eq !== undefined) {
    if (op === BPF_JEQ) return eq === k;
    if (op === BPF_JGT) return eq > k;
    if (op === BPF_JGE) return eq >= k;
    if (op === BPF_JSET) return (eq & k) !== 0;
    return null;
  }
  switch (op) {
    case BPF_JEQ:
      if (ne.has(k) || k < lo || k > hi) return false;
      return null;
    case BPF_JGT:
      if (lo > k) return true;
      if (hi <= k) return false;
      return null;
    case BPF_JGE:
      if (lo >= k) return true;
      if (hi < k) return false;
      return null;
    case BPF_JSET:
      if (jsetT.has(k)) return true;
      for (const m of jsetF) if ((k & ~m) === 0) return false;
      return null;
    default:
      return null;
  }
}

function learn(f: Facts, b: Block, key: string, outcome: boolean): Facts {
  const c = b.s.code;
  if (bpfSrc(c) !== BPF_K || constantA(b) !== null) return f;
  const k = b.s.k >>> 0;
  const op = bpfOp(c);
  return { key, op, k, outcome, id: `${key}|${String(op)}|${String(k)}|${outcome ? 1 : 0}`, next: f };
}

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

function order(root: Block): Block[] {
  // Topological order: programs here jump forward only, so DFS post-order reversed.
  const seen = new Set<Block>();
  const out: Block[] = [];
  const visit = (b: Block): void => {
    const stack: { b: Block; i: number }[] = [{ b, i: 0 }];
    seen.add(b);
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as { b: Block; i: number };
      const succ = [top.b.jt, top.b.jf][top.i++];
      if (top.i > 2) {
        stack.pop();
        out.push(top.b);
      } else if (succ !== null && succ !== undefined && !seen.has(succ)) {
        seen.add(succ);
        stack.push({ b: succ, i: 0 });
      }
    }
  };
  visit(root);
  return out.reverse();
}

function thread(root: Block): Block {
  const keys = new Map<Block, string | null>();
  const reads = new Map<Block, boolean>();
  const keyOf = (b: Block): string | null => {
    if (!keys.has(b)) keys.set(b, bpfClass(b.s.code) === BPF_JMP ? pureKey(b) : null);
    return keys.get(b) ?? null;
  };
  const readsOf = (b: Block): boolean => {
    if (!reads.has(b)) reads.set(b, readsOnEntry(b));
    return reads.get(b) === true;
  };
  // Follow decided pure tests from `t` under facts `f`.
  const follow = (t0: Block, f0: Facts): Block => {
    let t = t0;
    let f = f0;
    for (let guard = 0; guard < 10000; guard++) {
      // A decided block with nothing left to run is just an edge.
      if (t.jt !== null && t.jt === t.jf && t.stmts.length === 0) {
        t = t.jt;
        continue;
      }
      const key = keyOf(t);
      if (key === null || t.jt === null || t.jf === null) return t;
      const d = decide(t, key, f);
      if (d === null) return t;
      const next = d ? t.jt : t.jf;
      if (readsOf(next)) return t;
      f = learn(f, t, key, d);
      t = next;
    }
    return t;
  };
  let entry = follow(root, emptyFacts());
  const entryFacts = new Map<Block, Facts>();
  entryFacts.set(entry, emptyFacts());
  for (const b of order(entry)) {
    const f = entryFacts.get(b) ?? emptyFacts();
    if (b.jt === null || b.jf === null) continue;
    const key = keyOf(b);
    const ft = key === null ? f : learn(f, b, key, true);
    const ff = key === null ? f : learn(f, b, key, false);
    b.jt = follow(b.jt, ft);
    b.jf = follow(b.jf, ff);
    for (const [succ, fs] of [[b.jt, ft], [b.jf, ff]] as const) {
      const prev = entryFacts.get(succ);
      entryFacts.set(succ, prev === undefined ? fs : meet(prev, fs));
    }
  }
  if (entry.jt !== null && entry.jf !== null && entry.jt === entry.jf && keyOf(entry) !== null && constantA(entry) !== null) entry = entry.jt;
  return entry;
}

function mergeEqual(root: Block): Block {
  const canon = new Map<string, Block>();
  const repl = new Map<Block, Block>();
  const id = new Map<Block, number>();
  let next = 0;
  for (const b of order(root).reverse()) {
    if (b.jt !== null) b.jt = repl.get(b.jt) ?? b.jt;
    if (b.jf !== null) b.jf = repl.get(b.jf) ?? b.jf;
    const sig = `${b.stmts.map((s) => `${String(s.code)}:${String(s.k >>> 0)}`).join(',')}|${String(b.s.code)}:${String(b.s.k >>> 0)}|${b.jt === null ? '-' : String(id.get(b.jt))}|${b.jf === null ? '-' : String(id.get(b.jf))}`;
    const c = canon.get(sig);
    if (c === undefined) {
      canon.set(sig, b);
      id.set(b, next++);
    } else {
      repl.set(b, c);
      id.set(b, id.get(c) ?? 0);
    }
  }
  return repl.get(root) ?? root;
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
  const exitKey = new Map<Block, string | null>();
  for (const b of blocks) exitKey.set(b, bpfClass(b.s.code) === BPF_JMP ? pureKey(b) : null);
  for (const b of blocks) {
    const k = exitKey.get(b) ?? null;
    const ps = preds.get(b) ?? [];
    if (k === null || ps.length === 0) continue;
    if (ps.every((p) => exitKey.get(p) === k)) b.stmts = [];
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
 * X already holds what a block's leading `ldx`/`ldxb` would load when every
 * predecessor ends having run that same instruction (and not changed X).
 */
function dropRedundantLdx(root: Block): void {
  const blocks = order(root);
  const preds = new Map<Block, Block[]>();
  for (const b of blocks) {
    for (const t of new Set([b.jt, b.jf])) {
      if (t === null) continue;
      const list = preds.get(t) ?? [];
      list.push(b);
      preds.set(t, list);
    }
  }
  const xSig = (st: Stmt): string | null =>
    st.code === (BPF_LDX | BPF_MSH | 0x10) || st.code === (BPF_LDX | BPF_IMM) ? `${String(st.code)}:${String(st.k >>> 0)}` : null;
  const exitX = new Map<Block, string | null>();
  for (const b of blocks) {
    let sig: string | null = null;
    for (const st of b.stmts) {
      if (bpfClass(st.code) === BPF_LDX || st.code === (BPF_MISC | BPF_TAX)) sig = xSig(st);
    }
    exitX.set(b, sig);
  }
  for (const b of blocks) {
    const first = b.stmts[0];
    const ps = preds.get(b) ?? [];
    if (first === undefined || ps.length === 0) continue;
    const sig = xSig(first);
    if (sig !== null && ps.every((p) => exitX.get(p) === sig)) b.stmts = b.stmts.slice(1);
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
  foldBlocks(order(r), readsOnEntry);
  r = foldRejects(r);
  r = mergeEqual(r);
  const out = linearize(r);
  return out.insns.length <= plain.insns.length ? out : plain;
}
