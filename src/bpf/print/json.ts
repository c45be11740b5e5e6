// --json: the program as data, one object per instruction, with its -d text.
import type { Insn } from '../insn.js';
import type { Clause } from '../compiler/index.js';
import { bpfImage } from './image.js';

export interface ProgramJson {
  linktype: string;
  snaplen: number;
  optimized: boolean;
  length: number;
  insns: { code: number; jt: number; jf: number; k: number; text: string; clause?: string }[];
}

export function programJson(
  prog: readonly Insn[],
  clauses: readonly (Clause | undefined)[],
  meta: { linktype: string; snaplen: number; optimized: boolean },
): string {
  const out: ProgramJson = {
    ...meta,
    length: prog.length,
    insns: prog.map((p, n) => {
      const c = clauses[n];
      const text = bpfImage(p, n).replace(/^\(\d+\) /, '').replace(/\s+/g, ' ').trim();
      return c === undefined ? { code: p.code, jt: p.jt, jf: p.jf, k: p.k >>> 0, text } : { code: p.code, jt: p.jt, jf: p.jf, k: p.k >>> 0, text, clause: c.text };
    }),
  };
  return `${JSON.stringify(out, null, 2)}\n`;
}
