// Interpreter ≡ JIT on random programs and packets (no oracle: many more cases).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { interpret, jit, jitBased, jitSource, validate } from '../../../src/bpf/runtime/index.js';
import { int, randomPacket, randomProgram, rng } from '../runtime/random-program.js';

describe('runtime fuzz', () => {
  it('interpreter ≡ JIT on 3000 random programs × 60 packets', () => {
    const r = rng(99);
    for (let n = 0; n < 3000; n++) {
      const prog = randomProgram(r, 2 + int(r, 60), 70);
      // Invalid programs too: both must treat bad opcodes and stray jumps alike.
      if (n % 5 === 0 && prog[0]) prog[int(r, prog.length)] = { code: int(r, 256), jt: int(r, 256), jf: int(r, 256), k: int(r, 2 ** 32) };
      const fn = jit(prog);
      const based = jitBased(prog);
      for (let i = 0; i < 60; i++) {
        const p = randomPacket(r, 70);
        const wire = p.length + int(r, 3);
        const want = interpret(prog, p, wire);
        assert.equal(fn(p, wire, p.length), want, `${JSON.stringify(prog)} on ${Buffer.from(p).toString('hex')} (valid: ${String(validate(prog).length === 0)})`);
        // The based form, with the packet between junk bytes it must never read.
        const ring = new Uint8Array(p.length + 80).fill(0xa5);
        const at = int(r, 40);
        ring.set(p, at);
        assert.equal(based(ring, at, p.length, wire), want, `based: ${JSON.stringify(prog)}`);
      }
    }
  });

  it('the switch-loop fallback (too many jump targets) agrees too', () => {
    const r = rng(7);
    for (let n = 0; n < 5; n++) {
      const prog = randomProgram(r, 3500, 70);
      assert.match(jitSource(prog), /switch \(pc\)/);
      const fn = jit(prog);
      for (let i = 0; i < 300; i++) {
        const p = randomPacket(r, 70);
        assert.equal(fn(p, p.length, p.length), interpret(prog, p, p.length));
      }
    }
  });
});
