// bpf-eval.ts: what the optimizer computes at compile time must be what the
// BPF machine computes at run time. Checked against our interpreter running
// the operation on the same values (`ld #a; ldx #b; <op> x; ret a`).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  BPF_ADD, BPF_ALU, BPF_AND, BPF_DIV, BPF_IMM, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JMP, BPF_JSET, BPF_K, BPF_LD, BPF_LDX, BPF_LSH, BPF_MOD,
  BPF_MUL, BPF_OR, BPF_RET, BPF_RSH, BPF_SUB, BPF_W, BPF_X, BPF_XOR, BPF_A,
} from '../../../src/bpf/insn.js';
import { alu, decideJump } from '../../../src/bpf/compiler/bpf-eval.js';
import { interpret } from '../../../src/bpf/runtime/interpreter.js';
import { rng } from '../../helpers/rng.js';

const EDGES = [0, 1, 2, 7, 31, 32, 33, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
const NO_PACKET = new Uint8Array(0);

/** Edge values against each other, then seeded random ones. */
function pairs(seed: number): [number, number][] {
  const out: [number, number][] = [];
  for (const a of EDGES) for (const b of EDGES) out.push([a, b]);
  const r = rng(seed);
  for (let i = 0; i < 2000; i++) {
    const small = r() < 0.3;
    out.push([Math.floor(r() * 2 ** 32), small ? Math.floor(r() * 40) : Math.floor(r() * 2 ** 32)]);
  }
  return out;
}

describe('bpf-eval', () => {
  it('computes each ALU operation as the interpreter does, division and modulus by zero having no value', () => {
    for (const op of [BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_MOD, BPF_AND, BPF_OR, BPF_XOR, BPF_LSH, BPF_RSH]) {
      for (const [a, b] of pairs(op)) {
        const prog = [
          { code: BPF_LD | BPF_W | BPF_IMM, jt: 0, jf: 0, k: a },
          { code: BPF_LDX | BPF_W | BPF_IMM, jt: 0, jf: 0, k: b },
          { code: BPF_ALU | op | BPF_X, jt: 0, jf: 0, k: 0 },
          { code: BPF_RET | BPF_A, jt: 0, jf: 0, k: 0 },
        ];
        const folded = alu(op, a, b);
        if ((op === BPF_DIV || op === BPF_MOD) && b === 0) assert.equal(folded, null, `op ${String(op)} by zero`);
        else assert.equal(folded, interpret(prog, NO_PACKET, 0), `op 0x${op.toString(16)} on ${String(a)}, ${String(b)}`);
      }
    }
  });

  it('decides each conditional jump on a known A as the interpreter takes it', () => {
    for (const op of [BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET]) {
      for (const [a, k] of pairs(op)) {
        const prog = [
          { code: BPF_LD | BPF_W | BPF_IMM, jt: 0, jf: 0, k: a },
          { code: BPF_JMP | op | BPF_K, jt: 0, jf: 1, k },
          { code: BPF_RET | BPF_K, jt: 0, jf: 0, k: 1 },
          { code: BPF_RET | BPF_K, jt: 0, jf: 0, k: 0 },
        ];
        assert.equal(decideJump(op, a, k), interpret(prog, NO_PACKET, 0) === 1, `jump 0x${op.toString(16)} on ${String(a)}, ${String(k)}`);
      }
    }
  });

  it('has no value for an operation or jump the machine does not have', () => {
    assert.equal(alu(0xb0, 1, 1), null);
    assert.equal(decideJump(0x50, 1, 1), null); // 0x50: eBPF's jne, not classic BPF
  });
});
