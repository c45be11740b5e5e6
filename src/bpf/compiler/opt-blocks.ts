// Facts about single blocks for the optimizer's passes (optimize.ts,
// opt-thread.ts, opt-merge.ts): whether it needs A or X from before, the
// constant A holds at its jump, and the topological order of the graph.
import { BPF_ABS, BPF_ALU, BPF_DIV, BPF_IMM, BPF_IND, BPF_JA, BPF_JMP, BPF_LD, BPF_LDX, BPF_MISC, BPF_MOD, BPF_MSH, BPF_RET, BPF_ST, BPF_STX, BPF_TAX, BPF_TXA, BPF_X, bpfClass, bpfMode, bpfOp, bpfSrc } from '../insn.js';
import type { Block, Stmt } from './block.js';

/**
 * Does the block read A or X (or scratch memory) before setting them?
 * Asked for every edge on every pass, and worked out afresh each time: the
 * scan mostly stops at the first statement (a load), which costs less than
 * the memo per block it had (a record read and two comparisons, a miss on
 * every block of each new graph): ~1.5% of a compile.
 */
export function readsOnEntry(b: Block): boolean {
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

/** Can this statement end the program (a packet load, an `ldxb`, a division that may be by zero)? */
export function canFail(s: Stmt): boolean {
  const c = s.code;
  const cls = bpfClass(c);
  if (cls === BPF_LD) return bpfMode(c) === BPF_ABS || bpfMode(c) === BPF_IND;
  if (cls === BPF_LDX) return bpfMode(c) === BPF_MSH;
  if (cls === BPF_ALU) return (bpfOp(c) === BPF_DIV || bpfOp(c) === BPF_MOD) && (bpfSrc(c) === BPF_X || s.k >>> 0 === 0);
  return false;
}

/** Statement lists with jumps of their own (the 802.11 prologue, protochain) are not straight-line. */
export function hasJump(stmts: readonly Stmt[]): boolean {
  for (const s of stmts) if (bpfClass(s.code) === BPF_JMP) return true;
  return false;
}

/** The constant A a pure block ends with, if it is one (`ld #k`, ALU K ops). */
export function constantA(b: Block): number | null {
  const first = b.stmts[0];
  if (first?.code !== (BPF_LD | BPF_IMM)) return null;
  if (b.stmts.length !== 1) return null;
  return first.k >>> 0;
}

// order()'s own state, per block id, in one word: the walk that last
// reached the block, times 4, plus which successor it visits next (0 jt,
// 1 jf, 2 done). Kept between calls, each walk with a number of its own, so
// nothing is emptied per walk (no set, no object per step, one table read
// per visit): it runs a dozen times per compile.
let state = new Int32Array(256);
let walks = 0;

/** order()'s stack, empty between calls. */
const orderStack: Block[] = [];

/** Make room in order()'s table for a block with this id. */
function room(id: number): void {
  if (id < state.length) return;
  const s = new Int32Array(Math.max(id + 1, 2 * state.length));
  s.set(state);
  state = s;
}

/** How deep visit() recurses before order() walks with a stack of its own instead. */
const MAX_RECURSION = 1000;

/** A walk's number for order()'s marks (older walks' are smaller). */
function nextWalk(): number {
  if (walks >= 0x1fffffff) {
    state.fill(0);
    walks = 0;
  }
  return ++walks * 4;
}

/**
 * order()'s recursive walk from b (marked): its successors, jt first, then
 * b itself into `out`; false if it went deeper than MAX_RECURSION (then
 * `out` is incomplete).
 */
function visit(b: Block, walk: number, out: Block[], depth: number): boolean {
  if (depth > MAX_RECURSION) return false;
  const jt = b.jt;
  if (jt !== null) {
    if (jt.id >= state.length) room(jt.id);
    if (state[jt.id] !== walk) {
      state[jt.id] = walk;
      if (!visit(jt, walk, out, depth + 1)) return false;
    }
  }
  const jf = b.jf;
  if (jf !== null) {
    if (jf.id >= state.length) room(jf.id);
    if (state[jf.id] !== walk) {
      state[jf.id] = walk;
      if (!visit(jf, walk, out, depth + 1)) return false;
    }
  }
  out.push(b);
  return true;
}

/** The blocks reachable from root, each before its successors. */
export function order(root: Block): Block[] {
  // Topological order: programs here jump forward only, so DFS post-order
  // reversed. Recursion is the faster walk for the usual graph (tens of
  // blocks); a deep one (a long generated `or` chain) is walked again with
  // an explicit stack, in the same order, so it cannot overflow the JavaScript stack.
  const first = nextWalk();
  room(root.id);
  state[root.id] = first;
  const quick: Block[] = [];
  if (visit(root, first, quick, 0)) return quick.reverse();
  return orderByStack(root);
}

/** order() with an explicit stack, for graphs too deep for visit(). */
function orderByStack(root: Block): Block[] {
  const walk = nextWalk();
  room(root.id);
  let st = state;
  st[root.id] = walk;
  const out: Block[] = [];
  // The walk's stack, kept between calls (empty after each): no array made and grown per walk.
  const stack = orderStack;
  stack.push(root);
  while (stack.length > 0) {
    const b = stack[stack.length - 1];
    if (b === undefined) break;
    const i = (st[b.id] ?? 0) - walk;
    if (i >= 2) {
      stack.pop();
      out.push(b);
      continue;
    }
    st[b.id] = walk + i + 1;
    const succ = i === 0 ? b.jt : b.jf;
    if (succ !== null) {
      const id = succ.id;
      if (id >= st.length) {
        room(id);
        st = state;
      }
      if ((st[id] ?? 0) - walk < 0) {
        st[id] = walk;
        stack.push(succ);
      }
    }
  }
  return out.reverse();
}
