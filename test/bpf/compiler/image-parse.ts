// Parse `tcpdump -d` text back into instructions (the reverse of
// src/bpf/print/image.ts), to run libpcap's expected programs from its test
// tables through our interpreter.
import type { Insn } from '../../../src/bpf/insn.js';

const SIMPLE: Record<string, number> = {
  'ld [': 0x20, 'ldh [': 0x28, 'ldb [': 0x30, 'ld [x + ': 0x40, 'ldh [x + ': 0x48, 'ldb [x + ': 0x50,
  'ld M[': 0x60, 'ldx M[': 0x61, 'st M[': 0x02, 'stx M[': 0x03,
};
const ALU: Record<string, number> = { add: 0x00, sub: 0x10, mul: 0x20, div: 0x30, or: 0x40, and: 0x50, lsh: 0x60, rsh: 0x70, mod: 0x90, xor: 0xa0 };
const JMP: Record<string, number> = { jeq: 0x10, jgt: 0x20, jge: 0x30, jset: 0x40 };

export function parseImage(text: string): Insn[] | null {
  const out: Insn[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const m = /^\((\d+)\)\s+(\S+)\s*(.*?)\s*(?:jt (\d+)\s+jf (\d+))?\s*(?:;.*)?$/.exec(line);
    if (m === null) return null;
    const n = Number(m[1]);
    const op = m[2] ?? '';
    const arg = (m[3] ?? '').trim();
    const jt = m[4] === undefined ? 0 : Number(m[4]) - n - 1;
    const jf = m[5] === undefined ? 0 : Number(m[5]) - n - 1;
    const num = (s: string): number => (s.startsWith('0x') ? parseInt(s, 16) : Number(s)) >>> 0;
    let ins: Insn | null = null;
    if (op === 'ret') ins = arg === '' ? { code: 0x16, jt: 0, jf: 0, k: 0 } : { code: 0x06, jt: 0, jf: 0, k: num(arg.slice(1)) };
    else if (op === 'ld' && arg === '#pktlen') ins = { code: 0x80, jt: 0, jf: 0, k: 0 };
    else if ((op === 'ld' || op === 'ldx') && arg.startsWith('#')) ins = { code: op === 'ld' ? 0x00 : 0x01, jt: 0, jf: 0, k: num(arg.slice(1)) };
    else if (op === 'ldxb') ins = { code: 0xb1, jt: 0, jf: 0, k: num(/\[(\d+)\]/.exec(arg)?.[1] ?? '0') };
    else if (op === 'ja') ins = { code: 0x05, jt: 0, jf: 0, k: (Number(arg) - n - 1) >>> 0 };
    else if (op === 'tax') ins = { code: 0x07, jt: 0, jf: 0, k: 0 };
    else if (op === 'txa') ins = { code: 0x87, jt: 0, jf: 0, k: 0 };
    else if (op === 'neg') ins = { code: 0x84, jt: 0, jf: 0, k: 0 };
    else if (ALU[op] !== undefined) ins = arg === 'x' ? { code: 0x04 | 0x08 | ALU[op], jt: 0, jf: 0, k: 0 } : { code: 0x04 | ALU[op], jt: 0, jf: 0, k: num(arg.slice(1)) };
    else if (JMP[op] !== undefined) ins = arg === 'x' ? { code: 0x05 | 0x08 | JMP[op], jt, jf, k: 0 } : { code: 0x05 | JMP[op], jt, jf, k: num(arg.slice(1)) };
    else {
      for (const [prefix, code] of Object.entries(SIMPLE)) {
        const full = `${op} ${arg}`;
        if (full.startsWith(prefix) && /^-?\d+\]$/.test(full.slice(prefix.length))) {
          ins = { code, jt: 0, jf: 0, k: Number(full.slice(prefix.length, -1)) >>> 0 };
        }
      }
    }
    if (ins === null) return null;
    out.push(ins);
  }
  return out;
}
