// Block graph → instruction array, laid out exactly as libpcap's
// icode_to_fcode()/convert_code_r() does (optimize.c): a depth-first walk
// that visits the false branch, then the true branch, and fills the program
// from its end, so a block comes before both of its successors. Jumps longer
// than 255 get an extra `ja` after the branch, as libpcap's longjt/longjf.
import { BPF_JA, BPF_JMP, bpfClass, type Insn } from '../insn.js';
import type { Block, Clause, Stmt } from './block.js';

export interface Linear {
  insns: Insn[];
  /** The clause each instruction came from, for --explain. */
  clauses: (Clause | undefined)[];
}

// The layout's own state, per block id, kept between calls: each block's
// place in the program (`offsetOf`) and how many long-jump `ja`s follow its
// jump for each branch (`longJt`, `longJf`: set afresh per call, they carry
// over between attempts); a walk's marks (`seen`, valid where it holds the
// walk's number) and which successors the walk has visited (`stepOf`).
let offsetOf = new Int32Array(64);
let longJt = new Uint8Array(64);
let longJf = new Uint8Array(64);
let seen = new Int32Array(64);
let stepOf = new Uint8Array(64);
let walks = 0;

/** Make room for blocks with ids below `ids`. */
function room(ids: number): void {
  if (seen.length >= ids) return;
  const n = Math.max(ids, 2 * seen.length);
  const marks = new Int32Array(n);
  marks.set(seen);
  seen = marks;
  offsetOf = new Int32Array(n);
  longJt = new Uint8Array(n);
  longJf = new Uint8Array(n);
  stepOf = new Uint8Array(n);
}

/** A number for a new walk (marks from older walks are smaller). */
function nextWalk(): number {
  if (walks === 0x7fffffff) {
    seen.fill(0);
    walks = 0;
  }
  return ++walks;
}

/** Lay out the graph; `known`: the blocks reachable from root, when the caller has them (saves a walk). */
export function linearize(root: Block, known?: readonly Block[]): Linear {
  const blocks = known ?? reachable(root);
  // One pass over the blocks for the tables' size and the length without
  // long jumps: the blocks are scattered in memory after the optimizer, and
  // each walk over them was a tenth of the layout's time.
  let ids = 0;
  let plain = 0;
  for (const b of blocks) {
    plain += b.stmts.length + 1;
    if (b.id >= ids) ids = b.id + 1;
  }
  room(ids);
  // Up to 256 instructions no jump is longer than 255 (see linearLength):
  // one attempt, with no long-jump slot to reserve or to look up.
  if (plain <= 256) {
    const result = tryLinearize(root, plain, false);
    if (result !== null) return result;
  }
  for (const b of blocks) {
    longJt[b.id] = 0;
    longJf[b.id] = 0;
  }
  for (let attempt = 0; attempt < 10000; attempt++) {
    let total = plain;
    for (const b of blocks) total += (longJt[b.id] ?? 0) + (longJf[b.id] ?? 0);
    const result = tryLinearize(root, total, true);
    if (result !== null) return result;
  }
  throw new Error('moat bpf: could not lay out long jumps');
}

/**
 * The length linearize() would give for the graph of these blocks (all
 * reachable from its root), without laying it out, when that is sure: up to 256 instructions no jump can be longer than 255, so there
 * is no long-jump `ja` and the length is the blocks' own. Null past that.
 */
export function linearLength(blocks: readonly Block[]): number | null {
  let total = 0;
  for (const b of blocks) total += b.stmts.length + 1;
  return total <= 256 ? total : null;
}

function reachable(root: Block): Block[] {
  const walk = nextWalk();
  const out: Block[] = [];
  const stack: Block[] = [root];
  while (stack.length > 0) {
    const b = stack.pop();
    if (b === undefined) continue;
    room(b.id + 1);
    if (seen[b.id] === walk) continue;
    seen[b.id] = walk;
    out.push(b);
    if (b.jt !== null) stack.push(b.jt);
    if (b.jf !== null) stack.push(b.jf);
  }
  return out;
}

/**
 * Lay out `total` instructions (the blocks' and their reserved long-jump
 * slots), or null if a jump turned out too long for its slot (then marked).
 * `long`: read the long-jump tables (false: no slot is reserved, none needed).
 */
function tryLinearize(root: Block, total: number, long: boolean): Linear | null {
  // In locals: module bindings are re-read on every use.
  const offset = offsetOf;
  const longjt = longJt;
  const longjf = longJf;
  const marks = seen;
  const step = stepOf;
  const insns: Insn[] = new Array<Insn>(total);
  const clauses: (Clause | undefined)[] = new Array<Clause | undefined>(total);
  let tail = total;
  const walk = nextWalk();
  let failed = false;

  // Iterative post-order (jf subtree, then jt subtree, then the block) so a
  // deep chain cannot overflow the JavaScript stack; each block's state
  // (`step`: 0 new, 1 jf visited, 2 both) in the table. A step with nothing
  // to visit goes on to the next at once: a block is looked at once plus
  // once per successor it pushed, not three times (a return block, once).
  const stack: Block[] = [root];
  marks[root.id] = walk;
  step[root.id] = 0;
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    if (top === undefined) break;
    const at0 = top.id;
    if (step[at0] === 0) {
      step[at0] = 1;
      const f = top.jf;
      if (f !== null && marks[f.id] !== walk) {
        marks[f.id] = walk;
        step[f.id] = 0;
        stack.push(f);
        continue;
      }
    }
    if (step[at0] === 1) {
      step[at0] = 2;
      const t = top.jt;
      if (t !== null && marks[t.id] !== walk) {
        marks[t.id] = walk;
        step[t.id] = 0;
        stack.push(t);
        continue;
      }
    }
    stack.pop();
    const p = top;
    const lt = long ? (longjt[at0] ?? 0) : 0;
    const lf = long ? (longjf[at0] ?? 0) : 0;
    const slen = p.stmts.length;
    tail -= slen + 1 + lt + lf;
    offset[at0] = tail;
    emitStmts(p.stmts, insns, clauses, tail);
    const at = tail + slen;
    clauses[at] = p.s.clause ?? p.clause;
    if (p.jt === null || p.jf === null) {
      insns[at] = { code: p.s.code, jt: 0, jf: 0, k: p.s.k >>> 0 };
      continue;
    }
    const offJt = (offset[p.jt.id] ?? 0) - at - 1;
    const offJf = (offset[p.jf.id] ?? 0) - at - 1;
    let extra = 1;
    let jt = offJt;
    let jf = offJf;
    // A jump found too long only ever gets longer as others grow, so mark
    // every one found in this pass (libpcap marks one per pass; same result).
    if (offJt > 255) {
      if (lt === 0) {
        longjt[at0] = 1;
        failed = true;
        continue;
      }
      // As convert_code_r: the branch goes to the `ja` slot right after it.
      jt = extra - 1;
      insns[at + extra] = { code: BPF_JMP | BPF_JA, jt: 0, jf: 0, k: offJt - extra };
      clauses[at + extra] = clauses[at];
      extra++;
    }
    if (offJf > 255) {
      if (lf === 0) {
        longjf[at0] = 1;
        failed = true;
        continue;
      }
      jf = extra - 1;
      insns[at + extra] = { code: BPF_JMP | BPF_JA, jt: 0, jf: 0, k: offJf - extra };
      clauses[at + extra] = clauses[at];
      extra++;
    }
    insns[at] = { code: p.s.code, jt, jf, k: p.s.k >>> 0 };
    // Reserved long-jump slots that turned out unneeded become `ja 0`.
    for (; extra <= lt + lf; extra++) {
      insns[at + extra] = { code: BPF_JMP | BPF_JA, jt: 0, jf: 0, k: 0 };
      clauses[at + extra] = clauses[at];
    }
  }
  if (failed) return null;
  return { insns, clauses };
}

/** Copy a statement list, resolving block-local jumps (protochain uses them). */
function emitStmts(stmts: Stmt[], insns: Insn[], clauses: (Clause | undefined)[], base: number): void {
  for (let i = 0; i < stmts.length; i++) {
    const s = stmts[i];
    if (s === undefined) continue;
    let jt = 0;
    let jf = 0;
    let k = s.k >>> 0;
    if (bpfClass(s.code) === BPF_JMP) {
      if (s.code === (BPF_JMP | BPF_JA)) {
        if (s.target !== undefined) k = stmts.indexOf(s.target) - i - 1;
      } else {
        if (s.jtStmt !== undefined) jt = stmts.indexOf(s.jtStmt) - i - 1;
        if (s.jfStmt !== undefined) jf = stmts.indexOf(s.jfStmt) - i - 1;
      }
    }
    insns[base + i] = { code: s.code, jt, jf, k: k >>> 0 };
    clauses[base + i] = s.clause;
  }
}
