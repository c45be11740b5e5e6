// Block graph → instruction array, laid out exactly as libpcap's
// icode_to_fcode()/convert_code_r() does (optimize.c): a depth-first walk
// that visits the false branch, then the true branch, and fills the program
// from its end, so a block comes before both of its successors. Jumps longer
// than 255 get an extra `ja` after the branch, as libpcap's longjt/longjf.
import { BPF_JA, BPF_JMP, bpfClass, type Insn } from '../insn.js';
import { nextWalk, type Block, type Clause, type Stmt } from './block.js';

export interface Linear {
  insns: Insn[];
  /** The clause each instruction came from, for --explain. */
  clauses: (Clause | undefined)[];
}

/** Lay out the graph; `known`: the blocks reachable from root, when the caller has them (saves a walk). */
export function linearize(root: Block, known?: readonly Block[]): Linear {
  // Each block's layout (Block.offset, longjt, longjf) lives on the block for
  // this call, numbered by `run`; long-jump marks carry over between attempts.
  const run = nextWalk();
  const blocks = known ?? reachable(root);
  for (let attempt = 0; attempt < 10000; attempt++) {
    const result = tryLinearize(root, blocks, run);
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
    if (b === undefined || b.mark === walk) continue;
    b.mark = walk;
    out.push(b);
    if (b.jt !== null) stack.push(b.jt);
    if (b.jf !== null) stack.push(b.jf);
  }
  return out;
}

function tryLinearize(root: Block, blocks: readonly Block[], run: number): Linear | null {
  let total = 0;
  for (const b of blocks) {
    if (b.layoutRun !== run) {
      b.layoutRun = run;
      b.offset = 0;
      b.longjt = 0;
      b.longjf = 0;
    }
    total += b.stmts.length + 1 + b.longjt + b.longjf;
  }
  const insns: Insn[] = new Array<Insn>(total);
  const clauses: (Clause | undefined)[] = new Array<Clause | undefined>(total);
  let tail = total;
  const walk = nextWalk();
  let failed = false;

  // Iterative post-order (jf subtree, then jt subtree, then the block) so a
  // deep chain cannot overflow the JavaScript stack; each block's state
  // (Block.step: 0 new, 1 jf visited, 2 both) on the block.
  const stack: Block[] = [root];
  root.mark = walk;
  root.step = 0;
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    if (top === undefined) break;
    if (top.step === 0) {
      top.step = 1;
      const f = top.jf;
      if (f !== null && f.mark !== walk) {
        f.mark = walk;
        f.step = 0;
        stack.push(f);
      }
      continue;
    }
    if (top.step === 1) {
      top.step = 2;
      const t = top.jt;
      if (t !== null && t.mark !== walk) {
        t.mark = walk;
        t.step = 0;
        stack.push(t);
      }
      continue;
    }
    stack.pop();
    const p = top;
    const l = p;
    const slen = p.stmts.length;
    tail -= slen + 1 + l.longjt + l.longjf;
    l.offset = tail;
    emitStmts(p.stmts, insns, clauses, tail);
    const at = tail + slen;
    clauses[at] = p.s.clause ?? p.clause;
    if (p.jt === null || p.jf === null) {
      insns[at] = { code: p.s.code, jt: 0, jf: 0, k: p.s.k >>> 0 };
      continue;
    }
    const tl = p.jt;
    const fl = p.jf;
    const offJt = tl.offset - at - 1;
    const offJf = fl.offset - at - 1;
    let extra = 1;
    let jt = offJt;
    let jf = offJf;
    // A jump found too long only ever gets longer as others grow, so mark
    // every one found in this pass (libpcap marks one per pass; same result).
    if (offJt > 255) {
      if (l.longjt === 0) {
        l.longjt++;
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
      if (l.longjf === 0) {
        l.longjf++;
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
    for (; extra <= l.longjt + l.longjf; extra++) {
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
