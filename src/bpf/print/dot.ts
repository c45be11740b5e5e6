// --dot: the control-flow graph for Graphviz. Instructions are grouped into
// basic blocks (a block starts at the entry and at every jump target and
// ends at a jump or return); edges are labelled T/F.
import { BPF_JA, BPF_JMP, BPF_RET, bpfClass, bpfOp, type Insn } from '../insn.js';
import { bpfImage } from './image.js';

function targets(p: Insn, n: number): number[] {
  if (bpfClass(p.code) === BPF_RET) return [];
  if (bpfClass(p.code) !== BPF_JMP) return [n + 1];
  if (bpfOp(p.code) === BPF_JA) return [(n + 1 + p.k) | 0];
  return [n + 1 + p.jt, n + 1 + p.jf];
}

const esc = (s: string): string => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\t/g, ' ');

export function programDot(prog: readonly Insn[], title = 'bpf'): string {
  const leaders = new Set<number>([0]);
  prog.forEach((p, n) => {
    if (bpfClass(p.code) === BPF_JMP || bpfClass(p.code) === BPF_RET) {
      for (const t of targets(p, n)) leaders.add(t);
      if (n + 1 < prog.length) leaders.add(n + 1);
    }
  });
  const starts = [...leaders].filter((n) => n >= 0 && n < prog.length).sort((a, b) => a - b);
  const out: string[] = [`digraph "${esc(title)}" {`, '  node [shape=box, fontname="monospace"];'];
  for (let i = 0; i < starts.length; i++) {
    const s = starts[i] ?? 0;
    const e = (starts[i + 1] ?? prog.length) - 1;
    const lines: string[] = [];
    for (let n = s; n <= e; n++) {
      const p = prog[n];
      if (p !== undefined) lines.push(esc(bpfImage(p, n)));
    }
    const last = prog[e];
    const isRet = last !== undefined && bpfClass(last.code) === BPF_RET;
    out.push(`  b${String(s)} [label="${lines.join('\\l')}\\l"${isRet ? (last.k === 0 ? ', color=red' : ', color=darkgreen') : ''}];`);
    if (last === undefined) continue;
    const t = targets(last, e);
    if (t.length === 1 && t[0] !== undefined) out.push(`  b${String(s)} -> b${String(t[0])};`);
    if (t.length === 2) {
      out.push(`  b${String(s)} -> b${String(t[0] ?? 0)} [label="T"];`);
      out.push(`  b${String(s)} -> b${String(t[1] ?? 0)} [label="F", style=dashed];`);
    }
  }
  out.push('}');
  return `${out.join('\n')}\n`;
}
