import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Insn } from '../../../src/bpf/insn.js';
import { assertValid, validate } from '../../../src/bpf/runtime/index.js';

const I = (code: number, k = 0, jt = 0, jf = 0): Insn => ({ code, jt, jf, k });
const rules = (prog: Insn[], o = {}): string[] => validate(prog, o).map((p) => `${String(p.index)}:${p.rule}`);

describe('validator (Linux bpf_check_classic rules)', () => {
  it('accepts a plain filter', () => {
    assert.deepEqual(rules([I(0x28, 12), I(0x15, 0x800, 0, 1), I(0x06, 65535), I(0x06, 0)]), []);
  });
  it('limits length: 4096, or 512 for FreeBSD', () => {
    const long = [...Array.from({ length: 600 }, () => I(0x00, 1)), I(0x06, 1)];
    assert.deepEqual(rules(long), []);
    assert.deepEqual(rules(long, { freebsd: true }), ['-1:MOAT_BPF_TOO_LONG']);
    assert.deepEqual(rules(Array.from({ length: 4097 }, () => I(0x06, 1))), ['-1:MOAT_BPF_TOO_LONG']);
    assert.deepEqual(rules([]), ['-1:MOAT_BPF_EMPTY']);
  });
  it('names the instruction and the rule for each kind of problem', () => {
    assert.deepEqual(rules([I(0x00), I(0x34, 0), I(0x06)]), ['1:MOAT_BPF_DIV_BY_ZERO']);
    assert.deepEqual(rules([I(0x00), I(0x94, 0), I(0x06)]), ['1:MOAT_BPF_DIV_BY_ZERO']);
    assert.deepEqual(rules([I(0x64, 32), I(0x06)]), ['0:MOAT_BPF_BAD_SHIFT']);
    assert.deepEqual(rules([I(0x02, 16), I(0x06)]), ['0:MOAT_BPF_BAD_MEM_INDEX']);
    assert.deepEqual(rules([I(0x0e), I(0x06)]), ['0:MOAT_BPF_BAD_OPCODE']); // ret x is not in Linux's table
    assert.deepEqual(rules([I(0x15, 0, 0, 5), I(0x06)]), ['0:MOAT_BPF_JUMP_OUT_OF_RANGE']);
    assert.deepEqual(rules([I(0x05, 1), I(0x06)]), ['0:MOAT_BPF_JUMP_OUT_OF_RANGE']);
    assert.deepEqual(rules([I(0x06), I(0x00)]), ['1:MOAT_BPF_NO_RET_AT_END']);
  });
  it('rejects backward jumps unless protochain mode is asked for', () => {
    const loop = [I(0x00), I(0x04, 1), I(0x15, 5, 0, 1), I(0x16), I(0x05, 0xfffffffc)];
    loop.push(I(0x06));
    assert.deepEqual(rules(loop), ['4:MOAT_BPF_BACKWARD_JUMP']);
    assert.deepEqual(rules(loop, { protochain: true }), []);
  });
  it('rejects a scratch read that some path reaches before a write', () => {
    assert.deepEqual(rules([I(0x60, 3), I(0x06)]), ['0:MOAT_BPF_MEM_READ_BEFORE_WRITE']);
    // written on the true branch only
    const oneSided = [I(0x28, 12), I(0x15, 1, 0, 1), I(0x02, 3), I(0x61, 3), I(0x06, 1)];
    assert.deepEqual(rules(oneSided), ['3:MOAT_BPF_MEM_READ_BEFORE_WRITE']);
    const bothSides = [I(0x28, 12), I(0x15, 1, 0, 2), I(0x02, 3), I(0x05, 1), I(0x02, 3), I(0x61, 3), I(0x06, 1)];
    assert.deepEqual(rules(bothSides), []);
    // with a backward jump: 0 → 1 → 2 reads M[1]; the loop 3 → 1 never writes it
    const loop = [I(0x30, 0), I(0x15, 1, 0, 1), I(0x60, 1), I(0x05, 0xfffffffd), I(0x06)];
    assert.deepEqual(rules(loop, { protochain: true }), ['2:MOAT_BPF_MEM_READ_BEFORE_WRITE']);
    const written = [I(0x02, 1), ...loop.slice(0, 3), I(0x05, 0xfffffffd), I(0x06)];
    assert.deepEqual(rules(written, { protochain: true }), []);
  });
  it('throws a MoatError with the rule as its code', () => {
    assert.throws(() => {
      assertValid([I(0x60, 3), I(0x06)]);
    }, { code: 'MOAT_BPF_MEM_READ_BEFORE_WRITE', message: /instruction 0/ });
  });
});
