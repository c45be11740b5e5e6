// Packet loads whose value nothing reads, kept only because they could fall
// off the packet, go where a later load covers them: on every way on from
// the load that can accept, a load is made that needs at least as many
// bytes (so a packet too short for the dropped load is rejected anyway).
// Ways that end at `ret #0` need nothing: a failing load rejects too.
// What the statements that computed a dropped load's index leave then goes
// with it, if nothing else reads it.
//
// A load's need is said in value numbers (opt-values.ts), which name one
// value per packet wherever they are computed, so the later load may sit
// blocks further on, after X was set again, and index the packet another
// way: `ld #6; add x; tax; ldh [x + 0]` (X a header length held in M[2])
// is covered by `ldx M[2]; ldb [x + 9]`. An index is split into a base
// value and the constants added to it (`add #c`, `add x` with A a
// constant). For the dropped load, X is at most base + c (an addition that
// wraps round 2^32 only makes it smaller), so it needs at most base + c + k
// + size bytes, with k and size its own (BPF checks X + k against the
// length without wrapping: libpcap's bpf_filter(), our interpreter). For
// the covering load, X is exactly base + c only where base's upper bound
// plus c cannot wrap; else it is only known to need its k + size bytes.
// An absolute load is covered by any later load reaching as far, indexed or
// not (X is never negative).
//
// fold-sweep.ts covered() does this within a block for absolute loads, and
// opt-idle.ts for the decided blocks whose loads are all absolute; this
// adds indexed loads, the blocks that still test something, and loads
// covered blocks later. libpcap's optimizer drops every load whose value is
// dead, whatever the packet's length (pflog's `tcp[tcpflags] & (tcp-syn) !=
// 0 and (tcp dst port 25 or …)`, where its later `tcp[13]` covers the port's
// load); here only those a later load covers go.
//
// Under the beyond-libpcap switch (beyond-libpcap.ts), but never noted as
// used: dropping a load decides no test, so it cannot make a program
// `ret #0`. The value numbers are in opt-cover-numbers.ts, the needs per
// block in opt-cover-need.ts.
import { BPF_A, BPF_ABS, BPF_ALU, BPF_IND, BPF_JMP, BPF_LD, BPF_LDX, BPF_MISC, BPF_MSH, BPF_ST, BPF_STX, BPF_TAX, BPF_TXA, BPF_X, bpfClass, bpfMode, bpfRval, bpfSize, bpfSrc } from '../insn.js';
import { beyondOn } from './beyond-libpcap.js';
import { isReject, type Block, type Stmt } from './block.js';
import { canFail, hasJump } from './opt-blocks.js';
import { addNeed, coveredBy, meetWith, needFrom, needInto, needNothing, needsStart } from './opt-cover-need.js';
import { numberAll, numbersStart, split, splitBase, splitOff, xBefore } from './opt-cover-numbers.js';
import { readsXOnSomeWay } from './opt-live.js';
import { upper } from './opt-values.js';

const MAX = 0xffffffff;
/** Per block id: may A / X be read from entry before they are set? */
let aIn = new Uint8Array(64);
let xIn = new Uint8Array(64);

/** Make room for an optimizer run on a graph whose block ids are below `ids`. */
export function coverStart(ids: number): void {
  numbersStart(ids);
  needsStart(ids);
  if (aIn.length >= ids) return;
  const n = Math.max(ids, 2 * aIn.length);
  aIn = new Uint8Array(n);
  xIn = new Uint8Array(n);
}

const sizeOf = (code: number): number => (bpfSize(code) === 0x10 ? 1 : bpfSize(code) === 0x08 ? 2 : 4);

/**
 * deadLoads()'s answers: some load may be dead; one of them is indexed;
 * one is not (an absolute load, `ldxb`, or what computed an X nothing reads).
 */
const SOME = 1;
const INDEXED = 2;
const OTHER = 4;
/**
 * Blocks with an indexed load nothing reads (deadLoads() finds them): the
 * first `deadCount`. Written over, never cut short: setting an array's
 * length costs more than this pass's usual run.
 */
const indexedDead: Block[] = [];
let deadCount = 0;

function noteDead(b: Block): void {
  if (deadCount < indexedDead.length) indexedDead[deadCount] = b;
  else indexedDead.push(b);
  deadCount++;
}
/** deadLoads() found a dead indexed load with another indexed load after it in its block. */
let indexedThenIndexed = false;

/**
 * Is there a load whose value may be dead (A or X set again in the block
 * before being read, or the block decided)? Most graphs have none after
 * folding: then the pass costs this scan. 0, or SOME, with INDEXED if one
 * of them is an indexed load. Also a block that leaves in X what no way
 * on reads (the fold keeps it where the next block reads A: it asks about
 * both at once), as what computed it may end in a load. Not counted: decided blocks of absolute loads
 * and constant arithmetic alone (opt-idle.ts empties those where a later
 * load covers them, in the redundant pass after this one), and loads before
 * a return that may accept (nothing covers them there).
 */
function deadLoads(blocks: readonly Block[]): number {
  startDeadScan();
  let found = 0;
  for (const b of blocks) found |= deadIn(b);
  return found;
}

/** Where X may be read on some way on (opt-live.ts), made at the first question of a scan (null: none yet). */
let xRead: ((b: Block) => boolean) | null = null;

/** Start a scan of a graph with deadIn(). */
export function startDeadScan(): void {
  xRead = null;
  deadCount = 0;
  indexedThenIndexed = false;
}

/** deadLoads()'s answer for one block of the graph scanned (startDeadScan()): 0 if it has no such load. */
export function deadIn(b: Block): number {
  const st = b.stmts;
  if (st.length === 0) return 0;
  // Most blocks: one load that a test reads (`ldh [12]; jeq …`).
  if (st.length === 1 && b.jt !== b.jf && bpfClass(st[0]?.code ?? 0) === BPF_LD) return 0;
  // The register a failing load last wrote that nothing has read yet (1 A, 2 X), and whether it was indexed.
  let pending = 0;
  let indexed = false;
  let here = 0;
  // Only absolute loads and constant arithmetic that cannot fail (what opt-idle.ts idle() takes)?
  let idle = true;
  // X set (ldx, tax) and not read since.
  let xSet = false;
  for (const s of st) {
    const c = s.code;
    const cls = bpfClass(c);
    if (cls === BPF_LD) {
      const mode = bpfMode(c);
      if (mode === BPF_IND) {
        idle = false;
        xSet = false;
        if (pending === 2) pending = 0;
      }
      if (pending === 1 && indexed) {
        if ((here & INDEXED) === 0) noteDead(b);
        here |= SOME | INDEXED;
        if (mode === BPF_IND) indexedThenIndexed = true;
      } else if (pending === 1) here |= SOME | OTHER;
      pending = mode === BPF_ABS || mode === BPF_IND ? 1 : 0;
      indexed = mode === BPF_IND;
    } else {
      if (cls !== BPF_ALU || bpfSrc(c) === BPF_X || canFail(s)) idle = false;
      if (cls === BPF_LDX || c === (BPF_MISC | BPF_TAX)) xSet = true;
      else if (((cls === BPF_ALU || cls === BPF_JMP) && bpfSrc(c) === BPF_X) || cls === BPF_STX || c === (BPF_MISC | BPF_TXA)) xSet = false;
      if (cls === BPF_LDX) {
        if (pending === 2) here |= SOME | OTHER;
        if (bpfMode(c) === BPF_MSH) pending = 2;
        else if (pending === 2) pending = 0;
      } else pending = 0;
    }
  }
  // At the end: dead if the block is decided, or returns 0 (straight joins decided blocks to returns).
  if (pending !== 0) {
    const end = b.jt === null ? isReject(b) : b.jt === b.jf && !idle;
    if (end && indexed && pending === 1) {
      if ((here & INDEXED) === 0) noteDead(b);
      here |= SOME | INDEXED;
    } else if (end) here |= SOME | OTHER;
  }
  if (here === 0 && xSet && b.jt !== null && b.jf !== null && bpfSrc(b.s.code) !== BPF_X) {
    xRead ??= readsXOnSomeWay();
    if (!xRead(b.jt) && !xRead(b.jf)) here = SOME | OTHER;
  }
  return here;
}

/** Per block id: does every way on from its entry that can accept make an indexed load? */
let indexedIn = new Uint8Array(64);

/**
 * May a dead indexed load be covered at all: is there another indexed load
 * after one in its block, or on every way on that can accept from the end
 * of a block with one? (Else numbering the graph would be for nothing:
 * only an indexed load covers one, absolute ones say nothing of X.)
 */
function indexedMayBeCovered(blocks: readonly Block[]): boolean {
  if (indexedThenIndexed) return true;
  for (let i = blocks.length - 1; i >= 0; i--) {
    const b = blocks[i];
    if (b === undefined) continue;
    if (b.id >= indexedIn.length) {
      const more = new Uint8Array(Math.max(b.id + 1, 2 * indexedIn.length));
      more.set(indexedIn);
      indexedIn = more;
    }
    let here = false;
    for (const s of b.stmts) if (bpfClass(s.code) === BPF_LD && bpfMode(s.code) === BPF_IND) here = true;
    let on: boolean;
    if (b.jt === null || b.jf === null) on = isReject(b);
    else on = indexedIn[b.jt.id] === 1 && indexedIn[b.jf.id] === 1;
    indexedIn[b.id] = here || on ? 1 : 0;
  }
  for (let i = 0; i < deadCount; i++) {
    const b = indexedDead[i];
    if (b === undefined) continue;
    if (b.jt === null || b.jf === null) return true;
    if (indexedIn[b.jt.id] === 1 && indexedIn[b.jf.id] === 1) return true;
  }
  return false;
}

/** Are the statements numbered in this run (numberAll())? */
let numbered = false;

/** The statements kept by the backward walk of one block, last first (scratch). */
const kept: Stmt[] = [];

/**
 * Walk a block back from its end with `need` met from its successors: drop
 * what it computes that nothing reads, and the loads `need` covers among
 * them; leave `need` as on entry. True if a load went (then the block's
 * statements are replaced).
 */
function coverBlock(b: Block): boolean {
  const st = b.stmts;
  const jump = b.s.code;
  let aLive: boolean;
  let xLive: boolean;
  if (b.jt === null || b.jf === null) {
    // A return: `ret a` or `ret x` reads its register.
    aLive = bpfRval(jump) === BPF_A;
    xLive = bpfRval(jump) === BPF_X;
  } else {
    aLive = aIn[b.jt.id] === 1 || aIn[b.jf.id] === 1;
    xLive = xIn[b.jt.id] === 1 || xIn[b.jf.id] === 1;
    if (b.jt !== b.jf) {
      aLive = true;
      if (bpfSrc(jump) === BPF_X) xLive = true;
    }
  }
  if (hasJump(st)) {
    aIn[b.id] = 1;
    xIn[b.id] = 1;
    return false;
  }
  kept.length = 0;
  let dropped = false;
  for (let i = st.length - 1; i >= 0; i--) {
    const s = st[i];
    if (s === undefined) continue;
    const c = s.code;
    const cls = bpfClass(c);
    const mode = bpfMode(c);
    const k = s.k >>> 0;
    let keep = true;
    if (cls === BPF_LD && (mode === BPF_ABS || mode === BPF_IND)) {
      const own = k + sizeOf(c);
      // X is at most base + add (exactly that where it cannot wrap).
      let base = 0;
      let add = 0;
      if (mode === BPF_IND) {
        if (numbered) {
          split(xBefore(b, i));
          base = splitBase;
          add = splitOff;
        } else {
          // Not numbered (no indexed load was found dead): its index is not known.
          base = -1;
        }
      }
      if (!aLive && coveredBy(base, add + own)) {
        keep = false;
        dropped = true;
      } else {
        // What it needs: base's value plus add + own bytes where X cannot have wrapped, else its own at least.
        const exact = base >= 0 && (base === 0 ? add : upper(base) + add) <= MAX;
        if (exact && base !== 0) addNeed(base, add + own);
        addNeed(0, exact ? add + own : own);
        aLive = false;
        if (mode === BPF_IND) xLive = true;
      }
    } else if (cls === BPF_LDX && mode === BPF_MSH) {
      if (!xLive && coveredBy(0, k + 1)) {
        keep = false;
        dropped = true;
      } else {
        addNeed(0, k + 1);
        xLive = false;
      }
    } else if (cls === BPF_LD || c === (BPF_MISC | BPF_TXA)) {
      keep = aLive;
      if (keep) {
        aLive = false;
        if (c === (BPF_MISC | BPF_TXA)) xLive = true;
      }
    } else if (cls === BPF_LDX || c === (BPF_MISC | BPF_TAX)) {
      keep = xLive;
      if (keep) {
        xLive = false;
        if (c === (BPF_MISC | BPF_TAX)) aLive = true;
      }
    } else if (cls === BPF_ST || cls === BPF_STX) {
      if (cls === BPF_ST) aLive = true;
      else xLive = true;
    } else if (cls === BPF_ALU) {
      keep = aLive || canFail(s);
      if (keep) {
        aLive = true;
        if (bpfSrc(c) === BPF_X) xLive = true;
      }
    } else {
      aLive = true;
      xLive = true;
    }
    if (keep) kept.push(s);
  }
  aIn[b.id] = aLive ? 1 : 0;
  xIn[b.id] = xLive ? 1 : 0;
  if (!dropped) return false;
  // A new array: statement lists are never changed in place (the passes memoize them).
  b.stmts = kept.slice().reverse();
  return true;
}

/**
 * Drop the covered loads of the graph whose order (each block before its
 * successors) is `blocks`. True if any went. Changes statements only; a
 * decided block left empty is passed by later (opt-straight.ts).
 */
export function dropCovered(blocks: readonly Block[]): boolean {
  if (!beyondOn()) return false;
  const dead = deadLoads(blocks);
  if (dead === 0) return false;
  // Value numbers only say where an indexed load's index comes from: not needed for the others.
  numbered = (dead & INDEXED) !== 0 && indexedMayBeCovered(blocks);
  if (!numbered && (dead & OTHER) === 0) return false;
  if (numbered) numberAll(blocks);
  let changed = false;
  // Every block: what the walk drops as dead may leave a load dead in a block the scan passed.
  for (let i = blocks.length - 1; i >= 0; i--) {
    const b = blocks[i];
    if (b === undefined) continue;
    if (b.jt === null || b.jf === null) {
      // A return needs nothing where it may accept (`ret a` too); `ret #0` rejects whatever a load does.
      needNothing(isReject(b));
    } else {
      needFrom(b.jt.id);
      if (b.jf !== b.jt) meetWith(b.jf.id);
    }
    if (coverBlock(b)) changed = true;
    needInto(b.id);
  }
  return changed;
}
