// tcpdump's program dumps: -d (libpcap bpf_image()), -dd (C array) and
// -ddd (decimal), byte for byte as tcpdump 4.99/libpcap 1.10 print them.
import {
  BPF_A, BPF_ABS, BPF_ADD, BPF_ALU, BPF_AND, BPF_B, BPF_DIV, BPF_H, BPF_IMM, BPF_IND, BPF_JA, BPF_JEQ, BPF_JGE, BPF_JGT,
  BPF_JMP, BPF_JSET, BPF_K, BPF_LD, BPF_LDX, BPF_LEN, BPF_LSH, BPF_MEM, BPF_MISC, BPF_MOD, BPF_MSH, BPF_MUL, BPF_NEG,
  BPF_OR, BPF_RET, BPF_RSH, BPF_ST, BPF_STX, BPF_SUB, BPF_TAX, BPF_TXA, BPF_W, BPF_X, BPF_XOR, bpfClass, bpfOp, type Insn,
} from '../insn.js';

const hex = (k: number): string => `#0x${(k >>> 0).toString(16)}`;
const dec = (k: number): string => `#${String(k | 0)}`;

const ALU_NAMES: Record<number, string> = {
  [BPF_ADD]: 'add', [BPF_SUB]: 'sub', [BPF_MUL]: 'mul', [BPF_DIV]: 'div', [BPF_MOD]: 'mod', [BPF_AND]: 'and',
  [BPF_OR]: 'or', [BPF_XOR]: 'xor', [BPF_LSH]: 'lsh', [BPF_RSH]: 'rsh',
};
const HEX_ALU = new Set([BPF_AND, BPF_OR, BPF_XOR]);
const JMP_NAMES: Record<number, string> = { [BPF_JGT]: 'jgt', [BPF_JGE]: 'jge', [BPF_JEQ]: 'jeq', [BPF_JSET]: 'jset' };

/** Mnemonic and operand of one instruction, as bpf_image() spells them. */
export function mnemonic(p: Insn, n: number): { op: string; operand: string } {
  const c = p.code;
  const k = p.k;
  switch (c) {
    case BPF_RET | BPF_K: return { op: 'ret', operand: dec(k) };
    case BPF_RET | BPF_A: return { op: 'ret', operand: '' };
    case BPF_LD | BPF_W | BPF_ABS: return { op: 'ld', operand: `[${String(k | 0)}]` };
    case BPF_LD | BPF_H | BPF_ABS: return { op: 'ldh', operand: `[${String(k | 0)}]` };
    case BPF_LD | BPF_B | BPF_ABS: return { op: 'ldb', operand: `[${String(k | 0)}]` };
    case BPF_LD | BPF_W | BPF_LEN: return { op: 'ld', operand: '#pktlen' };
    case BPF_LD | BPF_W | BPF_IND: return { op: 'ld', operand: `[x + ${String(k | 0)}]` };
    case BPF_LD | BPF_H | BPF_IND: return { op: 'ldh', operand: `[x + ${String(k | 0)}]` };
    case BPF_LD | BPF_B | BPF_IND: return { op: 'ldb', operand: `[x + ${String(k | 0)}]` };
    case BPF_LD | BPF_IMM: return { op: 'ld', operand: hex(k) };
    case BPF_LDX | BPF_IMM: return { op: 'ldx', operand: hex(k) };
    case BPF_LDX | BPF_MSH | BPF_B: return { op: 'ldxb', operand: `4*([${String(k | 0)}]&0xf)` };
    case BPF_LD | BPF_MEM: return { op: 'ld', operand: `M[${String(k | 0)}]` };
    case BPF_LDX | BPF_MEM: return { op: 'ldx', operand: `M[${String(k | 0)}]` };
    case BPF_ST: return { op: 'st', operand: `M[${String(k | 0)}]` };
    case BPF_STX: return { op: 'stx', operand: `M[${String(k | 0)}]` };
    case BPF_JMP | BPF_JA: return { op: 'ja', operand: String((n + 1 + k) | 0) };
    case BPF_ALU | BPF_NEG: return { op: 'neg', operand: '' };
    case BPF_MISC | BPF_TAX: return { op: 'tax', operand: '' };
    case BPF_MISC | BPF_TXA: return { op: 'txa', operand: '' };
    default:
      break;
  }
  if (bpfClass(c) === BPF_JMP) {
    const name = JMP_NAMES[bpfOp(c)];
    if (name !== undefined && (c & ~0xf8) === BPF_JMP) return { op: name, operand: (c & BPF_X) !== 0 ? 'x' : hex(k) };
  }
  if (bpfClass(c) === BPF_ALU) {
    const name = ALU_NAMES[bpfOp(c)];
    if (name !== undefined && (c & ~0xf8) === BPF_ALU) {
      if ((c & BPF_X) !== 0) return { op: name, operand: 'x' };
      return { op: name, operand: HEX_ALU.has(bpfOp(c)) ? hex(k) : dec(k) };
    }
  }
  return { op: 'unimp', operand: `0x${c.toString(16)}` };
}

/** One line of `tcpdump -d`. */
export function bpfImage(p: Insn, n: number): string {
  const { op, operand } = mnemonic(p, n);
  const idx = String(n).padStart(3, '0');
  if (bpfClass(p.code) === BPF_JMP && bpfOp(p.code) !== BPF_JA) {
    return `(${idx}) ${op.padEnd(8)} ${operand.padEnd(16)} jt ${String(n + 1 + p.jt)}\tjf ${String(n + 1 + p.jf)}`;
  }
  return `(${idx}) ${op.padEnd(8)} ${operand}`;
}

/** `tcpdump -d`, `-dd`, `-ddd` (level 1, 2, 3). */
export function dumpProgram(prog: readonly Insn[], level: 1 | 2 | 3): string {
  if (level === 3) return `${String(prog.length)}\n${prog.map((i) => `${String(i.code)} ${String(i.jt)} ${String(i.jf)} ${String(i.k >>> 0)}\n`).join('')}`;
  if (level === 2) return prog.map((i) => `{ 0x${i.code.toString(16)}, ${String(i.jt)}, ${String(i.jf)}, 0x${(i.k >>> 0).toString(16).padStart(8, '0')} },\n`).join('');
  return prog.map((p, n) => `${bpfImage(p, n)}\n`).join('');
}
