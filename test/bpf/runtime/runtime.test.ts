import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PcapWriter, type CapturePacket } from '../../../src/core/index.js';
import { packetsOf } from '../capture-packets.js';
import type { Insn } from '../../../src/bpf/insn.js';
import { interpret, jit, validate } from '../../../src/bpf/runtime/index.js';
import { ETHER, GENERIC } from '../oracle/expressions.js';
import { OracleError, haveOracle, oracleApply, oracleRun } from '../oracle/oracle.js';
import { needs, sharedDir } from '../../helpers/system.js';
import { randomPacket, randomProgram, rng } from './random-program.js';

const filterDir = join(sharedDir, 'bpf', 'pcaps', 'libpcap-filter');
const tcpdumpDir = join(sharedDir, 'bpf', 'pcaps', 'tcpdump');

function both(prog: readonly Insn[], p: CapturePacket): [number, number] {
  return [interpret(prog, p.data, p.origlen), jit(prog)(p.data, p.origlen, p.data.length)];
}

describe('interpreter and JIT agree with libpcap', () => {
  it('on libpcap-compiled programs over every shared capture', async (t) => {
    if (!needs(t, { 'gcc and libpcap-dev': haveOracle() })) return;
    const files = [...readdirSync(filterDir).map((f) => join(filterDir, f)), ...readdirSync(tcpdumpDir).map((f) => join(tcpdumpDir, f))];
    let compared = 0;
    let i = 0;
    for (const file of files) {
      const packets = await packetsOf(file);
      if (packets.length === 0) continue;
      // Every expression, optimized and not, on the apply captures; on tcpdump's, one rotating expression each, so the run stays short.
      const all = [...GENERIC, ...ETHER];
      const ours = file.startsWith(filterDir);
      const exprs = ours ? all : [all[i++ % all.length] ?? 'ip'];
      for (const expr of exprs) {
        for (const optimize of ours ? [false, true] : [i % 2 === 0]) {
          let r;
          try {
            r = oracleApply(file, expr, optimize);
          } catch (e) {
            if (e instanceof OracleError) continue; // does not compile for this link type
            throw e;
          }
          const fn = jit(r.program);
          assert.equal(r.results.length, packets.length, `${file}: packet count`);
          packets.forEach((p, n) => {
            const want = r.results[n];
            assert.equal(interpret(r.program, p.data, p.origlen), want, `${file} #${String(n)} '${expr}' -O${String(optimize)}: interpreter`);
            assert.equal(fn(p.data, p.origlen, p.data.length), want, `${file} #${String(n)} '${expr}': JIT`);
          });
          compared += packets.length;
        }
      }
    }
    assert.ok(compared > 10000, `compared ${String(compared)} decisions`);
  });

  describe('on random programs and packets', () => {
    let dir = '';
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'moat-bpf-rand-'));
    });
    after(() => {
      rmSync(dir, { recursive: true, force: true });
    });
    it('interpreter ≡ JIT ≡ pcap_offline_filter', async (t) => {
      if (!needs(t, { 'gcc and libpcap-dev': haveOracle() })) return;
      const r = rng(20261122);
      const file = join(dir, 'random.pcap');
      const w = new PcapWriter(file, { linktype: 1 });
      const packets: CapturePacket[] = [];
      for (let i = 0; i < 200; i++) {
        const data = randomPacket(r, 80);
        const p = { linktype: 1, interfaceId: 0, tsSec: i, tsFrac: 0, tsResolution: 1e6, caplen: data.length, origlen: data.length + (i % 3), data, offset: 0 };
        packets.push(p);
        w.write(p);
      }
      await w.close();
      let programs = 0;
      for (let n = 0; n < 300; n++) {
        const prog = randomProgram(r, 2 + Math.floor(r() * 40), 80);
        if (validate(prog).length > 0) continue;
        programs++;
        const want = oracleRun(file, prog).results;
        const fn = jit(prog);
        packets.forEach((p, i) => {
          const text = JSON.stringify(prog);
          assert.equal(interpret(prog, p.data, p.origlen), want[i], `interpreter, packet ${String(i)}, ${text}`);
          assert.equal(fn(p.data, p.origlen, p.data.length), want[i], `JIT, packet ${String(i)}, ${text}`);
        });
      }
      assert.ok(programs > 100, `only ${String(programs)} valid programs`);
    });
  });
});

describe('runtime semantics', () => {
  const pkt = new Uint8Array([0x45, 0x00, 0x12, 0x34, 0xff, 0xfe, 0xfd, 0xfc]);
  const run = (prog: Insn[], p = pkt): [number, number] => both(prog, { linktype: 1, interfaceId: 0, tsSec: 0, tsFrac: 0, tsResolution: 1e6, caplen: p.length, origlen: 100, data: p, offset: 0 });
  const I = (code: number, k = 0, jt = 0, jf = 0): Insn => ({ code, jt, jf, k });

  it('rejects a load past the captured bytes', () => {
    assert.deepEqual(run([I(0x20, 4), I(0x16)]), [0xfffefdfc, 0xfffefdfc]);
    assert.deepEqual(run([I(0x20, 5), I(0x06, 1)]), [0, 0]);
    assert.deepEqual(run([I(0x01, 7), I(0x50, 0), I(0x16)]), [0xfc, 0xfc]);
    assert.deepEqual(run([I(0x01, 0xffffffff), I(0x50, 2), I(0x06, 1)]), [0, 0]); // x + k wraps in C: still rejected
    assert.deepEqual(run([I(0xb1, 8), I(0x06, 1)]), [0, 0]);
  });
  it('gives 0 on division or modulo by zero, and 0 for shifts of 32 or more', () => {
    assert.deepEqual(run([I(0x00, 7), I(0x01, 0), I(0x3c), I(0x06, 9)]), [0, 0]);
    assert.deepEqual(run([I(0x00, 7), I(0x01, 0), I(0x9c), I(0x06, 9)]), [0, 0]);
    assert.deepEqual(run([I(0x00, 7), I(0x01, 32), I(0x6c), I(0x16)]), [0, 0]);
    assert.deepEqual(run([I(0x00, 0x80000000), I(0x01, 31), I(0x7c), I(0x16)]), [1, 1]);
    assert.deepEqual(run([I(0x00, 3), I(0x84), I(0x16)]), [0xfffffffd, 0xfffffffd]);
  });
  it('sign-extends ja, so protochain-style backward jumps run', () => {
    // A = 0; loop: A += 1; if A == 5 ret A; ja loop
    const prog = [I(0x00, 0), I(0x04, 1), I(0x15, 5, 0, 1), I(0x16), I(0x05, 0xfffffffc)];
    assert.deepEqual(run(prog), [5, 5]);
    assert.deepEqual(run([I(0x05, 0xfffffff0), I(0x06, 1)]), [0, 0]); // before the start: reject
  });
  it('treats unknown opcodes and falling off the end as reject', () => {
    assert.deepEqual(run([I(0xff), I(0x06, 1)]), [0, 0]);
    assert.deepEqual(run([I(0x00, 1)]), [0, 0]);
  });
});
