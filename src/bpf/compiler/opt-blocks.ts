// Facts about single blocks for the optimizer's passes (optimize.ts,
// opt-thread.ts, opt-merge.ts): a block's statements as an interned number,
// whether it needs A or X from before, and the topological order of the graph.
import { BPF_ALU, BPF_IMM, BPF_IND, BPF_JA, BPF_JMP, BPF_LD, BPF_LDX, BPF_MISC, BPF_RET, BPF_ST, BPF_STX, BPF_TAX, BPF_TXA, BPF_X, bpfClass, bpfMode, bpfOp, bpfSrc } from '../insn.js';
import { nextWalk, type Block } from './block.js';
import { internGeneration, internList } from './opt-intern.js';

/** A block's statement list as an interned number, memoized on the block for its current array. */
export function stmtsId(b: Block): number {
  const gen = internGeneration();
  if (b.keyStmts !== b.stmts || b.keyGen !== gen) {
    b.keyNum = internList(b.stmts, 0);
    b.keyStmts = b.stmts;
    b.keyGen = gen;
  }
  return b.keyNum;
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
  // Iterative, with one stack and each block's walk state on the block itself
  // (Block.mark, Block.step: no set, no object per step): it runs a dozen times per compile.
  const walk = nextWalk();
  root.mark = walk;
  root.step = 0;
  const out: Block[] = [];
  const stack: Block[] = [root];
  while (stack.length > 0) {
    const b = stack[stack.length - 1];
    if (b === undefined) break;
    const i = b.step;
    if (i >= 2) {
      stack.pop();
      out.push(b);
      continue;
    }
    b.step = i + 1;
    const succ = i === 0 ? b.jt : b.jf;
    if (succ !== null && succ.mark !== walk) {
      succ.mark = walk;
      succ.step = 0;
      stack.push(succ);
    }
  }
  return out.reverse();
}
