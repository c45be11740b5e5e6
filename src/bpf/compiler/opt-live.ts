// Which blocks may have A or X read, on some way on from their entry,
// before it is set: the liveness the last fold needs (optimize.ts). The
// code generator's blocks each set the registers they read, so before the
// redundant pass a block's own statements tell (opt-blocks.ts
// readsOnEntry()); after it, a block may read what a block two edges back
// left in X (`ldb [14]; and #0xf; lsh #2; tax` dropped from the second
// `ip[2:2] - ((ip[0]&0xf)<<2)` because the first left it in X, with
// `ld [30]; jeq …` between them), and the fold's sweep must not drop the
// first as dead because the block right after it does not read X.
// A cannot pass a block that way: every block's jump reads it (a return
// has no way on), so readsOnEntry() already says so for A.
import { BPF_ALU, BPF_IND, BPF_JMP, BPF_LD, BPF_LDX, BPF_MISC, BPF_RET, BPF_STX, BPF_TAX, BPF_TXA, BPF_X, bpfClass, bpfMode } from '../insn.js';
import type { Block } from './block.js';
import { readsOnEntry } from './opt-blocks.js';

/**
 * Per block id: whether X may be read on some way on from its entry before
 * it is set (1) or not (0), worked out for the query numbered in `stamp`
 * (else not yet). Worked out only for the blocks asked about, and their
 * ways on: the fold asks about few blocks (its memos skip the rest).
 */
let xLive = new Uint8Array(64);
let stamp = new Int32Array(64);
let query = 0;

/** Does the statement read X? */
function readsX(c: number): boolean {
  const cls = bpfClass(c);
  if (cls === BPF_LD) return bpfMode(c) === BPF_IND;
  if (cls === BPF_ALU || cls === BPF_JMP) return (c & BPF_X) !== 0;
  if (cls === BPF_RET) return (c & 0x18) === BPF_X;
  return cls === BPF_STX || c === (BPF_MISC | BPF_TXA);
}

/** Ways longer than this are not followed: X is taken as read (a bound on the recursion). */
const MAX_DEPTH = 256;

function xLiveAt(b: Block, depth: number): boolean {
  if (b.id >= stamp.length) {
    // A table only ever grows; marks of earlier queries stay behind their numbers.
    const more = new Int32Array(Math.max(b.id + 1, 2 * stamp.length));
    more.set(stamp);
    stamp = more;
    const live = new Uint8Array(more.length);
    live.set(xLive);
    xLive = live;
  }
  if (stamp[b.id] === query) return xLive[b.id] === 1;
  // 1: X read first; 2: set first; 0: neither (it passes through).
  let first = 0;
  const st = b.stmts;
  for (let j = 0; j < st.length && first === 0; j++) {
    const c = st[j]?.code ?? 0;
    // A jump inside the list may skip what sets X: taken as a read.
    if (readsX(c) || bpfClass(c) === BPF_JMP) first = 1;
    else if (bpfClass(c) === BPF_LDX || c === (BPF_MISC | BPF_TAX)) first = 2;
  }
  if (first === 0 && readsX(b.s.code)) first = 1;
  let live = first === 1;
  if (first === 0 && b.jt !== null) {
    live = depth >= MAX_DEPTH || xLiveAt(b.jt, depth + 1) || (b.jf !== null && b.jf !== b.jt && xLiveAt(b.jf, depth + 1));
  }
  stamp[b.id] = query;
  xLive[b.id] = live ? 1 : 0;
  return live;
}

/**
 * Which blocks of the graph may have A or X read from their entry on some
 * way on: the function returned answers, for blocks of the graph as it is
 * now (a statement dropped since only makes it say more than it must).
 */
export function readsOnSomeWay(): (b: Block) => boolean {
  if (query === 0x7fffffff) {
    stamp.fill(0);
    query = 0;
  }
  query++;
  return liveOf;
}

const liveOf = (b: Block): boolean => readsOnEntry(b) || xLiveAt(b, 0);

/** Like readsOnSomeWay(), for X alone. */
export function readsXOnSomeWay(): (b: Block) => boolean {
  readsOnSomeWay();
  return xLiveOf;
}

const xLiveOf = (b: Block): boolean => xLiveAt(b, 0);
