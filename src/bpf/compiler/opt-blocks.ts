// Facts about single blocks for the optimizer's passes (optimize.ts,
// opt-thread.ts): what value a block computes (its keys), whether it needs A
// or X from before, and the topological order of the graph.
import { BPF_ABS, BPF_ALU, BPF_IMM, BPF_IND, BPF_JA, BPF_JMP, BPF_LD, BPF_LDX, BPF_LEN, BPF_MEM, BPF_MISC, BPF_MSH, BPF_NEG, BPF_RET, BPF_ST, BPF_STX, BPF_TAX, BPF_TXA, BPF_X, bpfClass, bpfMode, bpfOp, bpfSrc } from '../insn.js';
import { nextWalk, type Block, type Stmt } from './block.js';

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
export function pureKey(b: Block): string | null {
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
  return stmtsKey(b);
}

/**
 * Do stmts[from..] compute A from the packet alone (nothing read from A, X
 * or scratch memory before it is set there)? Stores are allowed: they do not
 * change A.
 */
export function selfContained(stmts: readonly Stmt[], from: number): boolean {
  let aSet = false;
  let xSet = false;
  for (let i = from; i < stmts.length; i++) {
    const c = stmts[i]?.code ?? -1;
    const cls = bpfClass(c);
    if (cls === BPF_LD) {
      const mode = bpfMode(c);
      if (mode === BPF_MEM || (mode === BPF_IND && !xSet)) return false;
      aSet = true;
    } else if (cls === BPF_LDX) {
      if (bpfMode(c) === BPF_MEM) return false;
      xSet = true;
    } else if (cls === BPF_ALU) {
      if (!aSet || (bpfSrc(c) === BPF_X && bpfOp(c) !== BPF_NEG && !xSet)) return false;
    } else if (cls === BPF_ST) {
      if (!aSet) return false;
    } else if (cls === BPF_STX) {
      if (!xSet) return false;
    } else if (c === (BPF_MISC | BPF_TAX)) {
      if (!aSet) return false;
      xSet = true;
    } else if (c === (BPF_MISC | BPF_TXA)) {
      if (!xSet) return false;
      aSet = true;
    } else return false;
  }
  return aSet;
}

/**
 * The value a block tests, as a key: its shortest statement suffix that
 * computes A from the packet alone (what comes before only feeds scratch
 * memory or is overwritten). Two blocks with equal test keys test the same
 * packet value, whatever else they do. Null if no suffix qualifies.
 */
export function testKey(b: Block): string | null {
  if (b.testStmts === b.stmts) return b.testText;
  let text: string | null = null;
  for (let i = b.stmts.length - 1; i >= 0 && text === null; i--) {
    if (selfContained(b.stmts, i)) text = i === 0 ? stmtsKey(b) : b.stmts.slice(i).map((s) => `${String(s.code)}:${String(s.k >>> 0)}`).join(',');
  }
  b.testStmts = b.stmts;
  b.testText = text;
  return text;
}

/** A block's statement list as a string key, memoized on the block for its current array. */
export function stmtsKey(b: Block): string {
  if (b.keyStmts !== b.stmts) {
    b.keyText = b.stmts.map((s) => `${String(s.code)}:${String(s.k >>> 0)}`).join(',');
    b.keyStmts = b.stmts;
  }
  return b.keyText;
}

/** Does the block read A or X (or scratch memory) before setting them? */
export function readsOnEntry(b: Block): boolean {
  // Asked for every edge on every pass: memoized on the block for its current statements and jump.
  if (b.memoStmts !== b.stmts || b.memoS !== b.s) {
    b.memoReads = computeReadsOnEntry(b);
    b.memoStmts = b.stmts;
    b.memoS = b.s;
  }
  return b.memoReads;
}

function computeReadsOnEntry(b: Block): boolean {
  let aSet = false;
  let xSet = false;
  const n = b.stmts.length;
  for (let i = 0; i <= n; i++) {
    const s = (i < n ? b.stmts[i] : undefined) ?? b.s;
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
export function constantA(b: Block): number | null {
  const first = b.stmts[0];
  if (first?.code !== (BPF_LD | BPF_IMM)) return null;
  if (b.stmts.length !== 1) return null;
  return first.k >>> 0;
}

/** The blocks reachable from root, each before its successors. */
export function order(root: Block): Block[] {
  // Topological order: programs here jump forward only, so DFS post-order reversed.
  // Iterative, with parallel stacks and marks on the blocks (no set, no object
  // per step): it runs a dozen times per compile.
  const walk = nextWalk();
  root.mark = walk;
  const out: Block[] = [];
  const blocks: Block[] = [root];
  const next: number[] = [0];
  while (blocks.length > 0) {
    const top = blocks.length - 1;
    const b = blocks[top];
    if (b === undefined) break;
    const i = next[top] ?? 2;
    if (i >= 2) {
      blocks.pop();
      next.pop();
      out.push(b);
      continue;
    }
    next[top] = i + 1;
    const succ = i === 0 ? b.jt : b.jf;
    if (succ !== null && succ.mark !== walk) {
      succ.mark = walk;
      blocks.push(succ);
      next.push(0);
    }
  }
  return out.reverse();
}
