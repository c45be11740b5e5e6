// `vxlan` follows libpcap master (1.10.3, the oracle elsewhere, has no
// vxlan): its expected unoptimized programs in the accept table, line for
// line, and its per-packet results on vxlan.pcap in the apply table.
import { join } from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileFilter, linktypeByName } from '../../../src/bpf/compiler/index.js';
import { dumpProgram } from '../../../src/bpf/print/index.js';
import { interpret } from '../../../src/bpf/runtime/index.js';
import { SourceSyntaxError } from '../../../src/core/index.js';
import { packetsOf } from '../capture-packets.js';
import { sharedDir } from '../../helpers/system.js';
import { tables } from './tables.js';

const lines = (text: string): string[] => text.split('\n').map((l) => l.trim().replace(/\s+/g, ' ')).filter((l) => l !== '');

describe('vxlan, as libpcap master', () => {
  it("prints master's expected unoptimized program for every vxlan block of the accept table", () => {
    let checked = 0;
    for (const b of tables().accept) {
      if (!b.aliases.some((a) => /\bvxlan\b/.test(a)) || b.unopt === undefined || b.unopt === null) continue;
      for (const expr of b.aliases) {
        const prog = compileFilter(expr, { linktype: linktypeByName(b.DLT) ?? -1, snaplen: b.snaplen ?? 262144, optimize: false });
        assert.deepEqual(lines(dumpProgram(prog, 1)), lines(b.unopt), `${b.DLT} ${expr}`);
        checked++;
      }
    }
    assert.ok(checked >= 3, `${String(checked)} checked`);
  });

  it("gives master's result on every packet of vxlan.pcap, optimized or not", async () => {
    let checked = 0;
    for (const c of tables().apply) {
      if (!/\bvxlan\b/.test(c.expr)) continue;
      const file = join(sharedDir, 'bpf', 'pcaps', 'libpcap-filter', c.savefile);
      const packets = await packetsOf(file);
      const snaplen = Math.max(0, ...c.results) || 262144;
      for (const optimize of [false, true]) {
        const prog = compileFilter(c.expr, { linktype: packets[0]?.linktype ?? 1, snaplen, optimize });
        assert.deepEqual(packets.map((p) => interpret(prog, p.data, p.origlen)), c.results, `${c.expr} (optimize: ${String(optimize)})`);
      }
      checked++;
    }
    assert.ok(checked >= 4);
  });

  it('matches what follows against the inner frame, and bounds the VNI', () => {
    const inner = compileFilter('vxlan and ether host 0:1:2:3:4:5', { linktype: 1, optimize: false });
    // The inner MAC addresses are read through the stored inner link header offset.
    assert.ok(inner.some((i) => i.code === 0x61 /* ldx M[] */));
    assert.throws(() => compileFilter('vxlan 16777216', { linktype: 1 }), (e: unknown) => e instanceof SourceSyntaxError && e.message.includes('VXLAN VNI 16777216 greater than maximum 16777215'));
    assert.throws(() => compileFilter('vxlan and gateway foo', { linktype: 1 }), /cannot be used within VXLAN or Geneve/);
  });
});
