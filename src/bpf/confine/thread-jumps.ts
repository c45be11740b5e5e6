// A small cleanup after splicing: point jumps that land on a `ja` straight at
// its target (when the distance still fits the 8-bit jt/jf), then drop what
// no path reaches any more and every `ja +0`, relocating the jumps that
// remain. Both steps keep every path's sequence of non-jump instructions, so
// the program's meaning is unchanged; the checker runs on the result anyway.
import type { Insn, Program } from '../insn.js';

const isJa = (i: Insn | undefined): i is Insn => i?.code === 0x05;
const isCond = (i: Insn): boolean => (i.code & 0x07) === 0x05 && i.code !== 0x05;

/** Follow `ja` chains from `t` while the jump from `from` can still reach (limit: max distance). */
function follow(prog: Program, from: number, t: number, limit: number): number {
  let target = t;
  // At most one hop per instruction: forward-only chains cannot be longer.
  for (let hops = 0; hops <= prog.length; hops += 1) {
    const at = prog[target];
    if (!isJa(at) || (at.k | 0) < 0) break;
    const next = target + 1 + at.k;
    if (next - from - 1 > limit) break;
    target = next;
  }
  return target;
}

export function threadJumps(input: Program): Insn[] {
  const prog = input.map((i) => ({ ...i }));
  if (prog.some((i) => i.code === 0x05 && (i.k | 0) < 0)) return prog; // backward jumps: leave alone
  prog.forEach((ins, i) => {
    if (isCond(ins)) {
      ins.jt = follow(prog, i, i + 1 + ins.jt, 255) - i - 1;
      ins.jf = follow(prog, i, i + 1 + ins.jf, 255) - i - 1;
    } else if (ins.code === 0x05) {
      ins.k = follow(prog, i, i + 1 + ins.k, 0xffffffff) - i - 1;
    }
  });
  // Reachability from the entry.
  const live = new Array<boolean>(prog.length).fill(false);
  const stack = [0];
  while (stack.length > 0) {
    const i = stack.pop() ?? 0;
    const ins = prog[i];
    if (ins === undefined || live[i] === true) continue;
    if (ins.code === 0x05 && ins.k === 0) {
      // `ja +0` does nothing: drop it. A jump to it lands on the next live instruction, which is its target.
      stack.push(i + 1);
      continue;
    }
    live[i] = true;
    if (ins.code === 0x05) stack.push(i + 1 + ins.k);
    else if (isCond(ins)) stack.push(i + 1 + ins.jt, i + 1 + ins.jf);
    else if ((ins.code & 0x07) !== 0x06) stack.push(i + 1);
  }
  // New positions; a jump past the end keeps pointing past the end.
  const pos = new Array<number>(prog.length + 1).fill(0);
  let n = 0;
  for (let i = 0; i < prog.length; i++) {
    pos[i] = n;
    if (live[i] === true) n++;
  }
  pos[prog.length] = n;
  const where = (t: number): number => pos[Math.min(t, prog.length)] ?? n;
  const out: Insn[] = [];
  prog.forEach((ins, i) => {
    if (live[i] !== true) return;
    const at = where(i);
    if (ins.code === 0x05) out.push({ ...ins, k: (where(i + 1 + ins.k) - at - 1) >>> 0 });
    else if (isCond(ins)) out.push({ ...ins, jt: where(i + 1 + ins.jt) - at - 1, jf: where(i + 1 + ins.jf) - at - 1 });
    else out.push(ins);
  });
  return out;
}
