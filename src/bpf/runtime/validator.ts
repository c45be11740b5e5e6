// A validator with the rules of Linux's bpf_check_classic()
// (net/core/filter.c): length limit, known opcodes, no division by a constant
// zero, shifts below 32, scratch indices below 16, jumps inside the program
// and forward only, no M[k] read before a write on every path
// (check_load_and_stores), and a `ret` at the end.
import { MoatError } from '../../core/index.js';
import { BPF_MEMWORDS, type Program } from '../insn.js';

export interface ValidateOptions {
  /** FreeBSD's BPF_MAXINSNS is 512, Linux's 4096. */
  freebsd?: boolean;
  /** Allow backward `ja`, as libpcap's own bpf_validate does for protochain. */
  protochain?: boolean;
}

export type ValidationRule =
  | 'MOAT_BPF_EMPTY'
  | 'MOAT_BPF_TOO_LONG'
  | 'MOAT_BPF_BAD_OPCODE'
  | 'MOAT_BPF_DIV_BY_ZERO'
  | 'MOAT_BPF_BAD_SHIFT'
  | 'MOAT_BPF_BAD_MEM_INDEX'
  | 'MOAT_BPF_JUMP_OUT_OF_RANGE'
  | 'MOAT_BPF_BACKWARD_JUMP'
  | 'MOAT_BPF_MEM_READ_BEFORE_WRITE'
  | 'MOAT_BPF_NO_RET_AT_END';

export interface ValidationProblem {
  /** Instruction index, or -1 for the program as a whole. */
  index: number;
  rule: ValidationRule;
  message: string;
}

// Linux's codes[] table: the opcodes classic BPF userland may load.
const ALLOWED = new Set([
  0x04, 0x0c, 0x14, 0x1c, 0x24, 0x2c, 0x34, 0x3c, 0x94, 0x9c, 0x54, 0x5c, 0x44, 0x4c, 0xa4, 0xac, 0x64, 0x6c, 0x74, 0x7c, 0x84,
  0x20, 0x28, 0x30, 0x40, 0x48, 0x50, 0x80, 0x00, 0x60,
  0x81, 0xb1, 0x01, 0x61,
  0x02, 0x03,
  0x07, 0x87,
  0x06, 0x16,
  0x05, 0x15, 0x1d, 0x25, 0x2d, 0x35, 0x3d, 0x45, 0x4d,
]);

const isCondJump = (code: number): boolean => (code & 0x07) === 0x05 && code !== 0x05;

/** Every rule the program breaks (empty when it is valid). */
export function validate(prog: Program, options: ValidateOptions = {}): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  const n = prog.length;
  const max = options.freebsd === true ? 512 : 4096;
  if (n === 0) return [{ index: -1, rule: 'MOAT_BPF_EMPTY', message: 'program is empty' }];
  if (n > max) {
    problems.push({ index: -1, rule: 'MOAT_BPF_TOO_LONG', message: `program has ${String(n)} instructions, more than the limit of ${String(max)}` });
  }
  prog.forEach((ins, i) => {
    const code = ins.code;
    const k = ins.k >>> 0;
    const add = (rule: ValidationRule, message: string): void => {
      problems.push({ index: i, rule, message: `instruction ${String(i)}: ${message}` });
    };
    if (!ALLOWED.has(code)) {
      add('MOAT_BPF_BAD_OPCODE', `unknown opcode 0x${code.toString(16).padStart(2, '0')}`);
      return;
    }
    if ((code === 0x34 || code === 0x94) && k === 0) add('MOAT_BPF_DIV_BY_ZERO', 'division or modulo by constant 0');
    if ((code === 0x64 || code === 0x74) && k >= 32) add('MOAT_BPF_BAD_SHIFT', `shift by ${String(k)}, not below 32`);
    if ((code === 0x60 || code === 0x61 || code === 0x02 || code === 0x03) && k >= BPF_MEMWORDS) {
      add('MOAT_BPF_BAD_MEM_INDEX', `scratch memory index ${String(k)} is not below ${String(BPF_MEMWORDS)}`);
    }
    if (code === 0x05) {
      const t = i + 1 + (k | 0);
      if ((k | 0) < 0 && options.protochain !== true) add('MOAT_BPF_BACKWARD_JUMP', `ja jumps backwards to ${String(t)}`);
      else if (t >= n || t < 0) add('MOAT_BPF_JUMP_OUT_OF_RANGE', `ja target ${String(t)} is outside the program`);
    } else if (isCondJump(code)) {
      if (i + 1 + ins.jt >= n || i + 1 + ins.jf >= n) {
        add('MOAT_BPF_JUMP_OUT_OF_RANGE', `jump target ${String(i + 1 + Math.max(ins.jt, ins.jf))} is outside the program`);
      }
    }
  });
  const last = prog[n - 1];
  if (last !== undefined && last.code !== 0x06 && last.code !== 0x16) {
    problems.push({ index: n - 1, rule: 'MOAT_BPF_NO_RET_AT_END', message: `instruction ${String(n - 1)}: the program does not end in ret` });
  }
  if (problems.length === 0) problems.push(...memoryProblems(prog, options.protochain === true));
  return problems;
}

/** Throw a MoatError naming the first broken rule. */
export function assertValid(prog: Program, options: ValidateOptions = {}): void {
  const [first] = validate(prog, options);
  if (first !== undefined) throw new MoatError(first.rule, first.message);
}

function memRead(code: number): boolean {
  return code === 0x60 || code === 0x61;
}

function memProblem(i: number, k: number): ValidationProblem {
  return { index: i, rule: 'MOAT_BPF_MEM_READ_BEFORE_WRITE', message: `instruction ${String(i)}: M[${String(k)}] may be read before it is written` };
}

/**
 * Linux's check_load_and_stores(): one pass in program order. `memvalid` is
 * the set of written words; a jump ANDs it into its targets' masks and sets it
 * to "all" so the next instruction sees only what its jumps brought. With
 * backward jumps that pass is unsound, so protochain mode iterates a dataflow
 * fixpoint instead.
 */
function memoryProblems(prog: Program, backward: boolean): ValidationProblem[] {
  const n = prog.length;
  const masks = new Array<number>(n).fill(0xffff);
  if (!backward) {
    let memvalid = 0;
    for (let pc = 0; pc < n; pc++) {
      const ins = prog[pc];
      if (ins === undefined) break;
      memvalid &= masks[pc] ?? 0;
      const k = ins.k >>> 0;
      if (ins.code === 0x02 || ins.code === 0x03) memvalid |= 1 << k;
      else if (memRead(ins.code) && (memvalid & (1 << k)) === 0) return [memProblem(pc, k)];
      else if (ins.code === 0x05) {
        const t = pc + 1 + k;
        masks[t] = (masks[t] ?? 0) & memvalid;
        memvalid = 0xffff;
      } else if (isCondJump(ins.code)) {
        masks[pc + 1 + ins.jt] = (masks[pc + 1 + ins.jt] ?? 0) & memvalid;
        masks[pc + 1 + ins.jf] = (masks[pc + 1 + ins.jf] ?? 0) & memvalid;
        memvalid = 0xffff;
      }
    }
    return [];
  }
  // Fixpoint: inValid[pc] = AND of what every predecessor brings; entry brings nothing.
  const inValid = new Array<number>(n).fill(0xffff);
  inValid[0] = 0;
  const work = [0];
  const seen = new Set<number>([0]);
  const visited = new Set<number>([0]);
  while (work.length > 0) {
    const pc = work.pop() ?? 0;
    seen.delete(pc);
    const ins = prog[pc];
    if (ins === undefined) continue;
    let v = inValid[pc] ?? 0;
    if (ins.code === 0x02 || ins.code === 0x03) v |= 1 << ins.k;
    const succ: number[] = [];
    if (ins.code === 0x05) succ.push(pc + 1 + (ins.k | 0));
    else if (isCondJump(ins.code)) succ.push(pc + 1 + ins.jt, pc + 1 + ins.jf);
    else if (ins.code !== 0x06 && ins.code !== 0x16) succ.push(pc + 1);
    for (const s of succ) {
      const before = inValid[s] ?? 0;
      const after = before & v;
      if (after !== before || !visited.has(s)) {
        inValid[s] = after;
        visited.add(s);
        if (!seen.has(s)) {
          seen.add(s);
          work.push(s);
        }
      }
    }
  }
  for (let pc = 0; pc < n; pc++) {
    const ins = prog[pc];
    if (ins !== undefined && visited.has(pc) && memRead(ins.code) && ((inValid[pc] ?? 0) & (1 << ins.k)) === 0) return [memProblem(pc, ins.k)];
  }
  return [];
}
