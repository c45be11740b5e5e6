// Facts about single blocks for the optimizer's passes (optimize.ts,
// opt-thread.ts): what value a block computes (its keys), whether it needs A
// or X from before, and the topological order of the graph.
import { BPF_ABS, BPF_ALU, BPF_IMM, BPF_IND, BPF_JA, BPF_JMP, BPF_LD, BPF_LDX, BPF_LEN, BPF_MEM, BPF_MISC, BPF_MSH, BPF_NEG, BPF_RET, BPF_ST, BPF_STX, BPF_TAX, BPF_TXA, BPF_X, bpfClass, bpfMode, bpfOp, bpfSrc } from '../insn.js';
import { nextWalk, type Block, type Stmt } from './block.js';
import { internGeneration, internList } from './opt-intern.js';

/** Opcodes that compute A or X from the packet alone, as a table by opcode (16 bits). */
const PURE_CODES = new Uint8Array(0x10000);
for (const size of [0x00, 0x08, 0x10]) {
  PURE_CODES[BPF_LD | BPF_ABS | size] = 1;
  PURE_CODES[BPF_LD | BPF_IND | size] = 1;
}
PURE_CODES[BPF_LD | BPF_IMM] = 1;
PURE_CODES[BPF_LD | BPF_LEN] = 1;
PURE_CODES[BPF_LDX | BPF_IMM] = 1;
PURE_CODES[BPF_LDX | BPF_MSH | 0x10] = 1;
PURE_CODES[BPF_MISC | BPF_TAX] = 1;
PURE_CODES[BPF_MISC | BPF_TXA] = 1;
const isPure = (c: number): boolean => c >= 0 && c < 0x10000 && PURE_CODES[c] === 1;

/**
 * Scratch words (a bit per word) stored only by the graph's entry block, as
 * the pflog and 802.11 prologues store the link header's length: everywhere
 * after the entry they hold one value per packet, so loading one is as pure
 * as loading from the packet. Set by the optimizer for one graph (optimize.ts).
 */
let stableMemory = 0;

export function setStableMemory(mask: number): void {
  stableMemory = mask;
}

/** `ld M[k]` or `ldx M[k]` of a stable word. */
function stableLoad(s: Stmt): boolean {
  return (s.code === (BPF_LD | BPF_MEM) || s.code === (BPF_LDX | BPF_MEM)) && s.k < 16 && ((stableMemory >>> s.k) & 1) === 1;
}

/** Do these statements compute A purely from the packet (packet loads, constants, ALU, register moves)? */
export function pureStmts(stmts: readonly Stmt[]): boolean {
  if (stmts.length === 0) return false;
  let xSet = false;
  for (const s of stmts) {
    const c = s.code;
    if (bpfClass(c) === BPF_ALU) {
      if (bpfSrc(c) === BPF_X || bpfOp(c) === BPF_NEG) {
        if (!xSet && bpfSrc(c) === BPF_X) return false;
      }
      continue;
    }
    if (!isPure(c) && !stableLoad(s)) return false;
    if (bpfClass(c) === BPF_LDX) xSet = true;
    if ((bpfMode(c) === BPF_IND || c === (BPF_MISC | BPF_TXA)) && !xSet) return false;
  }
  return true;
}

/**
 * Do stmts[from..] compute A from the packet alone (nothing read from A, X
 * or scratch memory before it is set there, but stable words)? Stores are allowed: they do not
 * change A.
 */
export function selfContained(stmts: readonly Stmt[], from: number): boolean {
  let aSet = false;
  let xSet = false;
  for (let i = from; i < stmts.length; i++) {
    const st = stmts[i];
    const c = st?.code ?? -1;
    const cls = bpfClass(c);
    if (cls === BPF_LD) {
      const mode = bpfMode(c);
      if ((mode === BPF_MEM && (st === undefined || !stableLoad(st))) || (mode === BPF_IND && !xSet)) return false;
      aSet = true;
    } else if (cls === BPF_LDX) {
      if (bpfMode(c) === BPF_MEM && (st === undefined || !stableLoad(st))) return false;
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
 * `from`: testFrom(b.stmts).
 */
export function testKey(b: Block, from: number): number | null {
  if (from < 0) return null;
  return from === 0 ? stmtsId(b) : internList(b.stmts, from);
}

/** Where the shortest self-contained suffix of the statements starts (-1: none). */
export function testFrom(stmts: readonly Stmt[]): number {
  for (let i = stmts.length - 1; i >= 0; i--) if (selfContained(stmts, i)) return i;
  return -1;
}

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
