// A classic BPF interpreter with libpcap's runtime semantics (bpf_filter.c in
// libpcap 1.10): a load past the captured bytes rejects the packet (returns
// 0), so does division or modulo by zero, a shift by 32 or more gives 0, and
// `ja` offsets are sign-extended because `protochain` jumps backwards.
import {
  BPF_MEMWORDS,
  bpfClass,
  type Program,
} from '../insn.js';

/**
 * Bound on executed instructions. A forward-only program can never reach it;
 * a program with backward jumps (protochain) could loop, and libpcap would
 * hang there. We return 0 instead: a deliberate deviation.
 */
export const MAX_STEPS = 1 << 20;

/** Run `prog` on a packet: `buflen` captured bytes of `p`, `wirelen` bytes on the wire. Returns the u32 result. */
export function interpret(prog: Program, p: Uint8Array, wirelen: number, buflen: number = p.length): number {
  if (buflen > p.length) buflen = p.length;
  let A = 0;
  let X = 0;
  const M = new Uint32Array(BPF_MEMWORDS);
  let pc = 0;
  for (let steps = 0; steps < MAX_STEPS; steps++) {
    const ins = prog[pc];
    if (ins === undefined) return 0; // ran off the end: bpf_validate forbids it; reject
    const k = ins.k >>> 0;
    pc++;
    switch (ins.code) {
      case 0x06: // ret #k
        return k;
      case 0x16: // ret a
        return A >>> 0;
      case 0x0e: // ret x
        return X >>> 0;
      case 0x20: // ld [k]
        if (k > buflen || 4 > buflen - k) return 0;
        A = ((p[k] ?? 0) * 0x1000000 + ((p[k + 1] ?? 0) << 16) + ((p[k + 2] ?? 0) << 8) + (p[k + 3] ?? 0)) >>> 0;
        break;
      case 0x28: // ldh [k]
        if (k > buflen || 2 > buflen - k) return 0;
        A = ((p[k] ?? 0) << 8) | (p[k + 1] ?? 0);
        break;
      case 0x30: // ldb [k]
        if (k >= buflen) return 0;
        A = p[k] ?? 0;
        break;
      case 0x80: // ld #len
        A = wirelen >>> 0;
        break;
      case 0x81: // ldx #len
        X = wirelen >>> 0;
        break;
      case 0x40:
      case 0x48:
      case 0x50: {
        // ld [x + k]: libpcap checks k and x separately so the sum cannot wrap.
        const size = ins.code === 0x40 ? 4 : ins.code === 0x48 ? 2 : 1;
        if (k > buflen || X > buflen - k || size > buflen - k - X) return 0;
        const o = X + k;
        if (size === 4) A = ((p[o] ?? 0) * 0x1000000 + ((p[o + 1] ?? 0) << 16) + ((p[o + 2] ?? 0) << 8) + (p[o + 3] ?? 0)) >>> 0;
        else if (size === 2) A = ((p[o] ?? 0) << 8) | (p[o + 1] ?? 0);
        else A = p[o] ?? 0;
        break;
      }
      case 0xb1: // ldxb 4*([k]&0xf)
        if (k >= buflen) return 0;
        X = ((p[k] ?? 0) & 0xf) << 2;
        break;
      case 0x00: // ld #k
        A = k;
        break;
      case 0x01: // ldx #k
        X = k;
        break;
      case 0x60: // ld M[k]
        A = M[k] ?? 0;
        break;
      case 0x61: // ldx M[k]
        X = M[k] ?? 0;
        break;
      case 0x02: // st M[k]
        if (k < BPF_MEMWORDS) M[k] = A;
        break;
      case 0x03: // stx M[k]
        if (k < BPF_MEMWORDS) M[k] = X;
        break;
      case 0x05: // ja: sign-extended (libpcap: pc += (bpf_int32)pc->k)
        pc += k | 0;
        if (pc < 0) return 0;
        break;
      case 0x15:
        pc += A === k ? ins.jt : ins.jf;
        break;
      case 0x25:
        pc += A > k ? ins.jt : ins.jf;
        break;
      case 0x35:
        pc += A >= k ? ins.jt : ins.jf;
        break;
      case 0x45:
        pc += (A & k) !== 0 ? ins.jt : ins.jf;
        break;
      case 0x1d:
        pc += A === X ? ins.jt : ins.jf;
        break;
      case 0x2d:
        pc += A > X ? ins.jt : ins.jf;
        break;
      case 0x3d:
        pc += A >= X ? ins.jt : ins.jf;
        break;
      case 0x4d:
        pc += (A & X) !== 0 ? ins.jt : ins.jf;
        break;
      case 0x07: // tax
        X = A;
        break;
      case 0x87: // txa
        A = X;
        break;
      default: {
        if (bpfClass(ins.code) !== 0x04) return 0; // unknown instruction: libpcap returns 0
        const r = alu(ins.code, A, (ins.code & 0x08) !== 0 ? X : k);
        if (r === undefined) return 0;
        A = r;
      }
    }
  }
  return 0;
}

/** One ALU operation on u32s; undefined means "reject the packet" (division by zero, unknown op). */
export function alu(code: number, a: number, b: number): number | undefined {
  switch (code & 0xf0) {
    case 0x00:
      return (a + b) >>> 0;
    case 0x10:
      return (a - b) >>> 0;
    case 0x20:
      return Math.imul(a, b) >>> 0;
    case 0x30:
      return b === 0 ? undefined : Math.floor(a / b) >>> 0;
    case 0x90:
      return b === 0 ? undefined : a % b >>> 0;
    case 0x40:
      return (a | b) >>> 0;
    case 0x50:
      return (a & b) >>> 0;
    case 0xa0:
      return (a ^ b) >>> 0;
    case 0x60:
      return b >= 32 ? 0 : (a << b) >>> 0;
    case 0x70:
      return b >= 32 ? 0 : a >>> b;
    case 0x80:
      return code === 0x84 ? -a >>> 0 : undefined; // only `neg` (0x84) exists
    default:
      return undefined;
  }
}
