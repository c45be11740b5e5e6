// Classic BPF as bpf(4) and libpcap define it (pcap/bpf.h): each instruction
// is { code: u16, jt: u8, jf: u8, k: u32 }. The compiler, optimizer,
// validator, interpreter, JIT, confinement and printers all share this shape.

export interface Insn {
  code: number;
  jt: number;
  jf: number;
  /** Unsigned 32-bit. */
  k: number;
}

export type Program = readonly Insn[];

// Instruction classes.
export const BPF_LD = 0x00;
export const BPF_LDX = 0x01;
export const BPF_ST = 0x02;
export const BPF_STX = 0x03;
export const BPF_ALU = 0x04;
export const BPF_JMP = 0x05;
export const BPF_RET = 0x06;
export const BPF_MISC = 0x07;
export const bpfClass = (code: number): number => code & 0x07;

// ld/ldx sizes.
export const BPF_W = 0x00;
export const BPF_H = 0x08;
export const BPF_B = 0x10;
export const bpfSize = (code: number): number => code & 0x18;

// ld/ldx addressing modes.
export const BPF_IMM = 0x00;
export const BPF_ABS = 0x20;
export const BPF_IND = 0x40;
export const BPF_MEM = 0x60;
export const BPF_LEN = 0x80;
export const BPF_MSH = 0xa0;
export const bpfMode = (code: number): number => code & 0xe0;

// alu/jmp operations.
export const BPF_ADD = 0x00;
export const BPF_SUB = 0x10;
export const BPF_MUL = 0x20;
export const BPF_DIV = 0x30;
export const BPF_OR = 0x40;
export const BPF_AND = 0x50;
export const BPF_LSH = 0x60;
export const BPF_RSH = 0x70;
export const BPF_NEG = 0x80;
export const BPF_MOD = 0x90;
export const BPF_XOR = 0xa0;
export const BPF_JA = 0x00;
export const BPF_JEQ = 0x10;
export const BPF_JGT = 0x20;
export const BPF_JGE = 0x30;
export const BPF_JSET = 0x40;
export const bpfOp = (code: number): number => code & 0xf0;

// Operand source.
export const BPF_K = 0x00;
export const BPF_X = 0x08;
export const bpfSrc = (code: number): number => code & 0x08;

// ret value source (BPF_K, BPF_X, or BPF_A).
export const BPF_A = 0x10;
export const bpfRval = (code: number): number => code & 0x18;

// misc operations.
export const BPF_TAX = 0x00;
export const BPF_TXA = 0x80;
export const bpfMiscOp = (code: number): number => code & 0xf8;

/** Scratch memory words (pcap/bpf.h BPF_MEMWORDS). */
export const BPF_MEMWORDS = 16;

export function insn(code: number, k = 0, jt = 0, jf = 0): Insn {
  return { code, jt, jf, k: k >>> 0 };
}
