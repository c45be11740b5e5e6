// Decided blocks (both edges to one successor) that do nothing: their
// statements go, and skipEmpty() (opt-straight.ts) then moves edges past
// them. A decided block does nothing when what it leaves in A is not read,
// it changes nothing else, and its loads cannot change the verdict, for one
// of two reasons:
//  - the packet is known to be long enough for them: every path to the
//    block made a load succeed that needs at least as many bytes (forward);
//  - a packet too short for them is rejected anyway: every path on from the
//    block that accepts makes a load needing at least as many bytes
//    (backward, each block after its successors).
// Either alone keeps the unoptimized verdict on every packet, and so do
// both together: a packet too short for a dropped load is too short to be
// accepted. (libpcap's optimizer drops such loads whatever the packet's
// length; where that changes its verdict, we keep them.)
import { BPF_ABS, BPF_ALU, BPF_DIV, BPF_IND, BPF_JMP, BPF_LD, BPF_LDX, BPF_MISC, BPF_MOD, BPF_MSH, BPF_RET, BPF_ST, BPF_TAX, BPF_TXA, BPF_X, bpfClass, bpfMode, bpfOp, bpfSize, bpfSrc } from '../insn.js';
import { isReject, type Block, type Stmt } from './block.js';
import { hasJump } from './opt-blocks.js';

/** Per block id: how long the packet is known to be on entry; -1 where no path has come yet. */
let lenIn = new Float64Array(64);
/** Per block id: how long it must be for any path from its entry to accept (Infinity: none accepts). */
let needIn = new Float64Array(64);

/** Make room for an optimizer run on a graph whose block ids are below `ids`. */
export function idleStart(ids: number): void {
  if (lenIn.length >= ids) return;
  lenIn = new Float64Array(Math.max(ids, 2 * lenIn.length));
  needIn = new Float64Array(lenIn.length);
}

/** The bytes a load needs (its offset, X taken as 0, plus its size). */
function loadEnd(s: Stmt): number {
  if (bpfMode(s.code) === BPF_MSH) return (s.k >>> 0) + 1;
  const sz = bpfSize(s.code);
  return (s.k >>> 0) + (sz === 0x10 ? 1 : sz === 0x08 ? 2 : 4);
}

/** The packet length the statements' loads need (none for a list with jumps: its loads may not run). */
function loadsNeed(stmts: readonly Stmt[]): number {
  let need = 0;
  for (const s of stmts) {
    const c = s.code;
    const cls = bpfClass(c);
    const mode = bpfMode(c);
    if (cls === BPF_JMP) return 0;
    if ((cls === BPF_LD && (mode === BPF_ABS || mode === BPF_IND)) || (cls === BPF_LDX && mode === BPF_MSH)) need = Math.max(need, loadEnd(s));
  }
  return need;
}

/**
 * Do the statements, with the packet `len` bytes long at least, change
 * nothing but A and never end the program? (Absolute loads within `len`,
 * constants, the length, scratch words, ALU operations with a constant
 * that cannot divide by zero.)
 */
function idle(stmts: readonly Stmt[], len: number): boolean {
  for (const s of stmts) {
    const c = s.code;
    const cls = bpfClass(c);
    if (cls === BPF_LD) {
      const mode = bpfMode(c);
      if (mode === BPF_IND || (mode === BPF_ABS && loadEnd(s) > len)) return false;
    } else if (cls === BPF_ALU) {
      const op = bpfOp(c);
      if (bpfSrc(c) === BPF_X || ((op === BPF_DIV || op === BPF_MOD) && s.k >>> 0 === 0)) return false;
    } else return false;
  }
  return true;
}

/** Does the block read A before setting it (its jump or return included)? */
function readsA(b: Block): boolean {
  for (const s of b.stmts) {
    const cls = bpfClass(s.code);
    if (cls === BPF_LD || s.code === (BPF_MISC | BPF_TXA)) return false;
    if (cls === BPF_ALU || cls === BPF_ST || s.code === (BPF_MISC | BPF_TAX)) return true;
  }
  const cls = bpfClass(b.s.code);
  return cls === BPF_JMP || (cls === BPF_RET && (b.s.code & 0x18) === 0x10);
}

/** What a path into t knows of the packet's length, met with the other paths'. */
function lengthInto(t: Block, out: number): void {
  const known = lenIn[t.id] ?? -1;
  lenIn[t.id] = known < 0 ? out : Math.min(known, out);
}

const decided = (b: Block): boolean => b.jt !== null && b.jt === b.jf && b.stmts.length > 0 && !readsA(b.jt);

/**
 * Empty the decided blocks that do nothing, in the graph whose order (each
 * block before its successors) is `blocks`. True if any was. Changes
 * statements only.
 */
export function emptyIdle(blocks: readonly Block[]): boolean {
  // Most graphs have no decided block with statements at all: look before any walk.
  let any = false;
  for (const b of blocks) {
    if (b.jt !== null && b.jt === b.jf && b.stmts.length > 0) {
      any = true;
      break;
    }
  }
  if (!any) return false;
  const n = blocks.length;
  for (const b of blocks) lenIn[b.id] = -1;
  let emptied = false;
  for (let i = 0; i < n; i++) {
    const b = blocks[i];
    if (b === undefined || b.jt === null) continue;
    const len = Math.max(0, lenIn[b.id] ?? 0);
    if (decided(b) && idle(b.stmts, len)) {
      b.stmts = [];
      emptied = true;
    }
    const out = Math.max(len, loadsNeed(b.stmts));
    lengthInto(b.jt, out);
    if (b.jf !== null && b.jf !== b.jt) lengthInto(b.jf, out);
  }
  for (let i = n - 1; i >= 0; i--) {
    const b = blocks[i];
    if (b === undefined) continue;
    if (b.jt === null || b.jf === null) {
      needIn[b.id] = isReject(b) ? Infinity : 0;
      continue;
    }
    const after = Math.min(needIn[b.jt.id] ?? 0, needIn[b.jf.id] ?? 0);
    if (decided(b) && idle(b.stmts, Math.max(after, lenIn[b.id] ?? 0))) {
      b.stmts = [];
      emptied = true;
    }
    needIn[b.id] = Math.max(after, hasJump(b.stmts) ? 0 : loadsNeed(b.stmts));
  }
  return emptied;
}
