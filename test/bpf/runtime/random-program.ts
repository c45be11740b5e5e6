// Random classic BPF programs and packets for property tests. Programs are
// forward-only, end in ret and pass the validator, so libpcap runs them too.
import type { Insn } from '../../../src/bpf/insn.js';
import { int, rng } from '../../helpers/rng.js';

export { int, rng };

const ALU_OPS = [0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x90, 0xa0];
const JMP_OPS = [0x10, 0x20, 0x30, 0x40];

function konst(r: () => number): number {
  const c = int(r, 6);
  if (c === 0) return int(r, 4);
  if (c === 1) return int(r, 64);
  if (c === 2) return int(r, 256);
  if (c === 3) return 0xffffffff - int(r, 4);
  return Math.floor(r() * 4294967296) >>> 0;
}

/** A random valid program of about `len` instructions over packets of about `pktLen` bytes. */
export function randomProgram(r: () => number, len: number, pktLen: number): Insn[] {
  const prog: Insn[] = [];
  let written = 0; // scratch words written on every path so far (only the straight prefix counts)
  for (let i = 0; i < len - 1; i++) {
    const left = len - 1 - i; // instructions after this one, the final ret included
    const kind = int(r, 10);
    const off = int(r, pktLen + 8);
    if (kind <= 2) {
      const size = [0x00, 0x08, 0x10][int(r, 3)] ?? 0;
      const mode = int(r, 4) === 0 ? 0x40 : 0x20;
      prog.push({ code: mode | size, jt: 0, jf: 0, k: mode === 0x40 ? int(r, 40) : off });
    } else if (kind === 3) {
      const op = ALU_OPS[int(r, ALU_OPS.length)] ?? 0;
      const x = int(r, 3) === 0;
      let k = konst(r);
      if (!x && (op === 0x30 || op === 0x90) && k === 0) k = 1;
      if (!x && (op === 0x60 || op === 0x70)) k = int(r, 32);
      prog.push({ code: 0x04 | op | (x ? 0x08 : 0), jt: 0, jf: 0, k });
    } else if (kind === 4) {
      const choice = int(r, 7);
      const codes = [0xb1, 0x01, 0x07, 0x87, 0x80, 0x81, 0x84];
      const code = codes[choice] ?? 0x07;
      prog.push({ code, jt: 0, jf: 0, k: code === 0xb1 ? off : code === 0x01 ? int(r, 80) : 0 });
    } else if (kind === 5) {
      const m = int(r, 4);
      if ((written & (1 << m)) !== 0 && int(r, 2) === 0) prog.push({ code: int(r, 2) === 0 ? 0x60 : 0x61, jt: 0, jf: 0, k: m });
      else {
        prog.push({ code: int(r, 2) === 0 ? 0x02 : 0x03, jt: 0, jf: 0, k: m });
        // Only count it when no jump could skip it: i.e. before the first jump.
        if (!prog.some((p) => (p.code & 0x07) === 0x05)) written |= 1 << m;
      }
    } else if (kind <= 8) {
      const op = JMP_OPS[int(r, JMP_OPS.length)] ?? 0x10;
      const x = int(r, 4) === 0;
      const span = Math.min(left - 1, 255);
      prog.push({ code: 0x05 | op | (x ? 0x08 : 0), jt: int(r, span + 1), jf: int(r, span + 1), k: konst(r) });
    } else {
      if (int(r, 2) === 0) prog.push({ code: 0x05, jt: 0, jf: 0, k: int(r, left) });
      else prog.push({ code: int(r, 2) === 0 ? 0x06 : 0x16, jt: 0, jf: 0, k: konst(r) });
    }
  }
  prog.push({ code: int(r, 2) === 0 ? 0x16 : 0x06, jt: 0, jf: 0, k: konst(r) });
  return prog;
}

/** A random packet: mostly IPv4/IPv6-over-Ethernet-looking bytes, sometimes noise. */
export function randomPacket(r: () => number, maxLen: number): Uint8Array {
  const len = int(r, maxLen + 1);
  const p = new Uint8Array(len);
  for (let i = 0; i < len; i++) p[i] = int(r, 4) === 0 ? int(r, 4) : int(r, 256);
  if (len > 14 && int(r, 2) === 0) {
    p[12] = 0x08;
    p[13] = 0;
    p[14] = 0x45;
  }
  return p;
}
