// Which blocks may have A or X read, on some way on from their entry,
// before it is set: the liveness the last fold needs (optimize.ts). The
// code generator's blocks each set the registers they read, so before the
// redundant pass a block's own statements tell (opt-blocks.ts
// readsOnEntry()); after it, a block may read what a block two edges back
// left (`ldxb 4*([14]&0xf)` dropped from the second `ip[2:2] - ((ip[0]&0xf)<<2)`
// because the first left it in X, with `ld [30]` between them), and the
// fold's sweep must not drop that `ldxb` as dead because the block right
// after it does not read X.
import { BPF_ALU, BPF_IND, BPF_JA, BPF_JMP, BPF_LD, BPF_LDX, BPF_MISC, BPF_RET, BPF_ST, BPF_STX, BPF_TAX, BPF_TXA, BPF_X, bpfClass, bpfMode, bpfOp, bpfSrc } from '../insn.js';
import type { Block } from './block.js';

const READS_A = 1;
const READS_X = 2;
/** use()'s bits for the registers set: READS_A and READS_X shifted by 2. */
const SETS_A = 4;
const SETS_X = 8;

/** What the block does with A and X from entry: reads before setting, sets (bits above). */
function use(b: Block): number {
  // Registers set so far, and those read before being set.
  let sets = 0;
  let reads = 0;
  const n = b.stmts.length;
  for (let i = 0; i <= n; i++) {
    const s = (i < n ? b.stmts[i] : undefined) ?? b.s;
    const c = s.code;
    const cls = bpfClass(c);
    // The registers this statement reads, then those it sets (as bits READS_A, READS_X).
    let r = 0;
    let w = 0;
    if (cls === BPF_LD) {
      if (bpfMode(c) === BPF_IND) r = READS_X;
      w = READS_A;
    } else if (cls === BPF_LDX) w = READS_X;
    else if (cls === BPF_ST) r = READS_A;
    else if (cls === BPF_STX) r = READS_X;
    else if (cls === BPF_ALU || cls === BPF_JMP) {
      if (!(cls === BPF_JMP && bpfOp(c) === BPF_JA)) r = READS_A;
      if (bpfSrc(c) === BPF_X) r |= READS_X;
      // A statement list with jumps of its own may skip what follows: taken as reading both, setting nothing more.
      if (cls === BPF_JMP && i < n) return (reads | ((READS_A | READS_X) & ~sets)) | (sets << 2);
      if (cls === BPF_ALU) w = READS_A;
    } else if (cls === BPF_RET) {
      if ((c & 0x18) === 0x10) r = READS_A;
      if ((c & 0x18) === BPF_X) r = READS_X;
    } else if (c === (BPF_MISC | BPF_TAX)) {
      r = READS_A;
      w = READS_X;
    } else if (c === (BPF_MISC | BPF_TXA)) {
      r = READS_X;
      w = READS_A;
    }
    reads |= r & ~sets;
    sets |= w;
  }
  return reads | (sets << 2);
}

/** Per block id: READS_A | READS_X on some way on from its entry. */
let live = new Uint8Array(64);

/**
 * Work out, for the graph whose order (each block before its successors)
 * is `blocks`, which blocks may have A or X read from their entry on some
 * way on; the answer is the function returned (for blocks of this graph,
 * until it changes).
 */
export function readsOnSomeWay(blocks: readonly Block[]): (b: Block) => boolean {
  let ids = 0;
  for (const b of blocks) if (b.id >= ids) ids = b.id + 1;
  if (live.length < ids) live = new Uint8Array(Math.max(ids, 2 * live.length));
  for (let i = blocks.length - 1; i >= 0; i--) {
    const b = blocks[i];
    if (b === undefined) continue;
    const u = use(b);
    let after = 0;
    if (b.jt !== null) after |= live[b.jt.id] ?? 0;
    if (b.jf !== null) after |= live[b.jf.id] ?? 0;
    let l = u & (READS_A | READS_X);
    if ((u & SETS_A) === 0) l |= after & READS_A;
    if ((u & SETS_X) === 0) l |= after & READS_X;
    live[b.id] = l;
  }
  return liveOf;
}

const liveOf = (b: Block): boolean => (live[b.id] ?? 1) !== 0;
