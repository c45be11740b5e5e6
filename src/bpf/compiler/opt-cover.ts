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
import {
  BPF_ABS, BPF_ALU, BPF_ADD, BPF_DIV, BPF_IMM, BPF_IND, BPF_JMP, BPF_K, BPF_LD, BPF_LDX, BPF_LEN, BPF_MEM, BPF_MISC, BPF_MOD, BPF_MSH,
  BPF_NEG, BPF_RET, BPF_ST, BPF_STX, BPF_TAX, BPF_TXA, BPF_X, bpfClass, bpfMode, bpfOp, bpfSize, bpfSrc,
} from '../insn.js';
import { beyondOn } from './beyond-libpcap.js';
import type { Block, Stmt } from './block.js';
import { aluValue, loadMax } from './opt-redundant.js';
import { constantOf, fresh, konst, opOfValue, operandOf, upper, value } from './opt-values.js';

const MAX = 0xffffffff;
/** Registers per block: A, X, the 16 scratch words. */
const W = 18;
const A = 0;
const X = 1;
/** How many (base, end) needs a block keeps: a way with more is rare, and forgetting one only keeps a load. */
const CAP = 6;

/** Per block id, W slots: the value numbers on entry (0: paths disagree), valid where `entryWalk` is this walk's. */
let entry = new Int32Array(64 * W);
let entryWalk = new Int32Array(64);
let walks = 0;
/** Per block id: where its statements' X numbers start in `xAt`. */
let firstAt = new Int32Array(64);
/** X's number before each statement, the blocks' statements one after another. */
let xAt = new Int32Array(256);
/** Per block id, on entry: what every way on that can accept needs (see Need). */
let top = new Uint8Array(64);
let absNeed = new Float64Array(64);
let count = new Uint8Array(64);
let bases = new Int32Array(64 * CAP);
let ends = new Float64Array(64 * CAP);
/** Per block id: may A / X be read from entry before they are set? */
let aIn = new Uint8Array(64);
let xIn = new Uint8Array(64);

/** Make room for an optimizer run on a graph whose block ids are below `ids`. */
export function coverStart(ids: number): void {
  if (entryWalk.length >= ids) return;
  const n = Math.max(ids, 2 * entryWalk.length);
  entry = new Int32Array(n * W);
  entryWalk = new Int32Array(n);
  firstAt = new Int32Array(n);
  top = new Uint8Array(n);
  absNeed = new Float64Array(n);
  count = new Uint8Array(n);
  bases = new Int32Array(n * CAP);
  ends = new Float64Array(n * CAP);
  aIn = new Uint8Array(n);
  xIn = new Uint8Array(n);
  walks = 0;
}

/**
 * What every way on from a point that can accept needs, as the walk goes
 * back through a block: `all` (every way rejects), else a packet at least
 * `abs` bytes long, and for each base value bases[i], at least its value
 * plus ends[i] bytes. Met at a block's end from its successors' entries.
 */
const need = { all: false, abs: 0, n: 0, bases: new Int32Array(CAP), ends: new Float64Array(CAP) };

function needFrom(id: number): void {
  need.all = top[id] === 1;
  need.abs = absNeed[id] ?? 0;
  need.n = count[id] ?? 0;
  for (let i = 0; i < need.n; i++) {
    need.bases[i] = bases[id * CAP + i] ?? 0;
    need.ends[i] = ends[id * CAP + i] ?? 0;
  }
}

/** Meet `need` with the entry of block id: what both ways need. */
function meetWith(id: number): void {
  if (top[id] === 1) return;
  if (need.all) {
    needFrom(id);
    return;
  }
  need.abs = Math.min(need.abs, absNeed[id] ?? 0);
  let kept = 0;
  for (let i = 0; i < need.n; i++) {
    const b = need.bases[i] ?? 0;
    for (let j = 0; j < (count[id] ?? 0); j++) {
      if (bases[id * CAP + j] !== b) continue;
      need.bases[kept] = b;
      need.ends[kept++] = Math.min(need.ends[i] ?? 0, ends[id * CAP + j] ?? 0);
      break;
    }
  }
  need.n = kept;
}

function needInto(id: number): void {
  top[id] = need.all ? 1 : 0;
  absNeed[id] = need.abs;
  count[id] = need.n;
  for (let i = 0; i < need.n; i++) {
    bases[id * CAP + i] = need.bases[i] ?? 0;
    ends[id * CAP + i] = need.ends[i] ?? 0;
  }
}

/** A load needing base's value plus `end` bytes (base 0: `end` bytes) is made on every way on. */
function addNeed(base: number, end: number): void {
  if (need.all) return;
  if (base === 0) {
    need.abs = Math.max(need.abs, end);
    return;
  }
  for (let i = 0; i < need.n; i++) {
    if (need.bases[i] !== base) continue;
    need.ends[i] = Math.max(need.ends[i] ?? 0, end);
    return;
  }
  if (need.n < CAP) {
    need.bases[need.n] = base;
    need.ends[need.n++] = end;
  }
}

/** Would a packet too short for a load needing base's value plus `end` bytes be rejected on every way on? */
function coveredBy(base: number, end: number): boolean {
  if (need.all) return true;
  if (base === 0) return need.abs >= end;
  for (let i = 0; i < need.n; i++) if (need.bases[i] === base) return (need.ends[i] ?? 0) >= end;
  return false;
}

/** split()'s answer: X's number is `splitBase` plus `splitOff` (base 0: X is the constant splitOff). */
let splitBase = 0;
let splitOff = 0;

/** Split a number into a base and the constants added to it. */
function split(n: number): void {
  let off = 0;
  let v = n;
  for (let depth = 0; depth < 16; depth++) {
    const c = constantOf(v);
    if (c !== null) {
      splitBase = 0;
      splitOff = off + c;
      return;
    }
    if (opOfValue(v) !== (BPF_ALU | BPF_ADD)) break;
    const l = operandOf(v, 0);
    const r = operandOf(v, 1);
    const cr = constantOf(r);
    const cl = constantOf(l);
    if (cr !== null) {
      off += cr;
      v = l;
    } else if (cl !== null) {
      off += cl;
      v = r;
    } else break;
  }
  splitBase = v;
  splitOff = off;
}

const sizeOf = (code: number): number => (bpfSize(code) === 0x10 ? 1 : bpfSize(code) === 0x08 ? 2 : 4);

/** Can the statement end the program (a packet load, a division that may be by zero)? */
function canFail(s: Stmt): boolean {
  const c = s.code;
  const cls = bpfClass(c);
  if (cls === BPF_LD) return bpfMode(c) === BPF_ABS || bpfMode(c) === BPF_IND;
  if (cls === BPF_LDX) return bpfMode(c) === BPF_MSH;
  if (cls === BPF_ALU) return (bpfOp(c) === BPF_DIV || bpfOp(c) === BPF_MOD) && (bpfSrc(c) === BPF_X || s.k >>> 0 === 0);
  return false;
}

/** Statement lists with jumps of their own (the 802.11 prologue, protochain) are not straight-line: left alone. */
function hasJump(stmts: readonly Stmt[]): boolean {
  for (const s of stmts) if (bpfClass(s.code) === BPF_JMP) return true;
  return false;
}

/**
 * Is there a load whose value may be dead (A or X set again in the block
 * before being read, or the block decided)? Most graphs have none after
 * folding: then the pass costs this scan.
 */
function anyDeadLoad(blocks: readonly Block[]): boolean {
  for (const b of blocks) {
    if (b.jt === null) continue;
    const st = b.stmts;
    // The register a failing load last wrote that nothing has read yet: 1 A, 2 X.
    let pending = 0;
    for (const s of st) {
      const c = s.code;
      const cls = bpfClass(c);
      if (cls === BPF_LD) {
        if (bpfMode(c) === BPF_IND && pending === 2) pending = 0;
        if (pending === 1) return true;
        if (bpfMode(c) === BPF_ABS || bpfMode(c) === BPF_IND) pending = 1;
      } else if (cls === BPF_LDX) {
        if (pending === 2) return true;
        if (bpfMode(c) === BPF_MSH) pending = 2;
      } else pending = 0;
    }
    if (pending !== 0 && b.jt === b.jf) return true;
  }
  return false;
}

/** The registers as the forward walk goes. */
const regs = new Int32Array(W);

/** Number the statements of the blocks (in order), recording X before each. */
function numberAll(blocks: readonly Block[]): void {
  if (walks === 0x7fffffff) {
    entryWalk.fill(0);
    walks = 0;
  }
  const walk = ++walks;
  let at = 0;
  for (const b of blocks) at += b.stmts.length;
  if (xAt.length < at) xAt = new Int32Array(Math.max(at, 2 * xAt.length));
  at = 0;
  for (const b of blocks) {
    const base = b.id * W;
    const reached = entryWalk[b.id] === walk;
    for (let r = 0; r < W; r++) {
      const v = reached ? (entry[base + r] ?? 0) : 0;
      regs[r] = v > 0 ? v : fresh();
    }
    firstAt[b.id] = at;
    const st = b.stmts;
    if (hasJump(st)) {
      for (let r = 0; r < W; r++) regs[r] = fresh();
      at += st.length;
    } else {
      for (const s of st) {
        xAt[at++] = regs[X] ?? 0;
        step(s);
      }
    }
    if (b.jt !== null) into(b.jt, walk);
    if (b.jf !== null && b.jf !== b.jt) into(b.jf, walk);
  }
}

/** The registers on leaving a block, met with what other paths into `t` brought (0: they disagree). */
function into(t: Block, walk: number): void {
  const tb = t.id * W;
  if (entryWalk[t.id] !== walk) {
    entryWalk[t.id] = walk;
    for (let r = 0; r < W; r++) entry[tb + r] = regs[r] ?? 0;
  } else for (let r = 0; r < W; r++) if (entry[tb + r] !== regs[r]) entry[tb + r] = 0;
}

/** One statement on `regs` (as opt-redundant.ts walk() numbers it). */
function step(s: Stmt): void {
  const c = s.code;
  const cls = bpfClass(c);
  const k = s.k >>> 0;
  if (cls === BPF_LD || cls === BPF_LDX) {
    const mode = bpfMode(c);
    let v: number;
    if (mode === BPF_IMM) v = konst(k);
    else if (mode === BPF_MEM) v = k < 16 ? (regs[2 + k] ?? 0) : fresh();
    else if (mode === BPF_LEN) v = value(BPF_LD | BPF_LEN, 0, 0, MAX);
    else if (mode === BPF_IND) v = value(c, s.k | 0, regs[X] ?? 0, loadMax(c));
    else if (mode === BPF_MSH) v = value(c, s.k | 0, 0, 60);
    else v = value(c, s.k | 0, 0, loadMax(c));
    regs[cls === BPF_LD ? A : X] = v;
  } else if (cls === BPF_ST || cls === BPF_STX) {
    if (k < 16) regs[2 + k] = regs[cls === BPF_ST ? A : X] ?? 0;
  } else if (c === (BPF_MISC | BPF_TAX)) regs[X] = regs[A] ?? 0;
  else if (c === (BPF_MISC | BPF_TXA)) regs[A] = regs[X] ?? 0;
  else if (cls === BPF_ALU) {
    const op = bpfOp(c);
    const a = regs[A] ?? 0;
    if (op === BPF_NEG) regs[A] = value(c, a, 0, MAX);
    else if (canFail(s) && (bpfSrc(c) === BPF_X ? constantOf(regs[X] ?? 0) ?? 0 : k) === 0) regs[A] = fresh();
    else regs[A] = aluValue(op, a, bpfSrc(c) === BPF_X ? (regs[X] ?? 0) : konst(k));
  }
}

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
  const decided = b.jt === b.jf;
  let aLive = (b.jt !== null && aIn[b.jt.id] === 1) || (b.jf !== null && aIn[b.jf.id] === 1);
  let xLive = (b.jt !== null && xIn[b.jt.id] === 1) || (b.jf !== null && xIn[b.jf.id] === 1);
  if (!decided) {
    aLive = true;
    if (bpfSrc(jump) === BPF_X) xLive = true;
  }
  if (hasJump(st)) {
    aIn[b.id] = 1;
    xIn[b.id] = 1;
    return false;
  }
  kept.length = 0;
  let dropped = false;
  const first = firstAt[b.id] ?? 0;
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
        split(xAt[first + i] ?? 0);
        base = splitBase;
        add = splitOff;
      }
      if (!aLive && coveredBy(base, add + own)) {
        keep = false;
        dropped = true;
      } else {
        // What it needs: base's value plus add + own bytes where X cannot have wrapped, else its own at least.
        const exact = (base === 0 ? add : upper(base) + add) <= MAX;
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
  if (!beyondOn() || !anyDeadLoad(blocks)) return false;
  numberAll(blocks);
  let changed = false;
  for (let i = blocks.length - 1; i >= 0; i--) {
    const b = blocks[i];
    if (b === undefined) continue;
    if (b.jt === null || b.jf === null) {
      const c = b.s.code;
      need.all = c === (BPF_RET | BPF_K) && b.s.k === 0;
      need.abs = 0;
      need.n = 0;
      needInto(b.id);
      aIn[b.id] = bpfClass(c) === BPF_RET && (c & 0x18) === 0x10 ? 1 : 0;
      xIn[b.id] = bpfClass(c) === BPF_RET && (c & 0x18) === BPF_X ? 1 : 0;
      continue;
    }
    needFrom(b.jt.id);
    if (b.jf !== b.jt) meetWith(b.jf.id);
    if (coverBlock(b)) changed = true;
    needInto(b.id);
  }
  return changed;
}
