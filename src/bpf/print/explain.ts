// --explain: the -d listing with, after each instruction, the clause of the
// expression it was generated for.
import type { Insn } from '../insn.js';
import type { Clause } from '../compiler/index.js';
import { bpfImage } from './image.js';

export function explainProgram(prog: readonly Insn[], clauses: readonly (Clause | undefined)[]): string {
  const lines = prog.map((p, n) => bpfImage(p, n));
  const width = Math.min(60, Math.max(...lines.map((l) => l.replace(/\t/g, '    ').length)));
  let prev: Clause | undefined;
  return `${lines
    .map((l, n) => {
      const c = clauses[n];
      const shown = l.replace(/\t/g, '    ');
      if (c === undefined) return `${shown.padEnd(width)}  ; ${prog[n]?.k === 0 ? 'reject' : 'accept'}`;
      const note = c === prev ? '  ;   ...' : `  ; ${c.text}  (col ${String(c.start + 1)})`;
      prev = c;
      return `${shown.padEnd(width)}${note}`;
    })
    .join('\n')}\n`;
}
