// Program size against libpcap's optimizer (issue 14 §2). Where ours is
// longer, the fixture holds a packet on which libpcap's optimized program and
// its own unoptimized program disagree: libpcap's shorter program does not
// keep the unoptimized semantics there, which ours must. Each is checked
// against libpcap, and ours against its own unoptimized program.
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileFilter } from '../../../src/bpf/compiler/index.js';
import { interpret } from '../../../src/bpf/runtime/index.js';
import { fixture, needs } from '../../helpers/system.js';
import { haveOracle, oracleCompile } from '../oracle/oracle.js';
import { acceptSizeItems, measureSizes } from '../oracle/sizes.js';
import { randomExpressions } from '../oracle/random-expressions.js';

interface Excused {
  linktype: number;
  expr: string;
  ours: number;
  libpcap: number;
  packet: string;
  /** The length on the wire, when not the captured length (`len`, `greater`, `less` read it). */
  wirelen?: number;
}

const excused = JSON.parse(readFileSync(fixture('bpf', 'sizes', 'libpcap-optimizer-disagrees.json'), 'utf8')) as Excused[];
const byTable = JSON.parse(readFileSync(fixture('bpf', 'sizes', 'libpcap-1.10.3-departs-from-its-table.json'), 'utf8')) as Excused[];

describe('program size against libpcap -O', () => {
  it("holds, for longer programs, a packet where libpcap's -O breaks its own unoptimized semantics", (t) => {
    if (!needs(t, { 'gcc and libpcap-dev (oracle)': haveOracle() })) return;
    assert.ok(excused.length >= 20);
    const linktypes = new Set<number>();
    for (const x of excused) {
      const p = Buffer.from(x.packet, 'hex');
      const wirelen = x.wirelen ?? p.length;
      // A capture never holds more than was on the wire.
      assert.ok(wirelen >= p.length, `${x.expr}: wire length ${String(wirelen)} below the captured ${String(p.length)}`);
      const theirsOpt = oracleCompile(x.linktype, x.expr, { optimize: true });
      const theirsPlain = oracleCompile(x.linktype, x.expr);
      const plain = interpret(theirsPlain, p, wirelen);
      assert.notEqual(interpret(theirsOpt, p, wirelen), plain, `${String(x.linktype)} ${x.expr}: libpcap -O agrees with itself`);
      const ours = compileFilter(x.expr, { linktype: x.linktype, resolveNames: false, optimize: true });
      // Accepted or not as libpcap's unoptimized program decides (snap lengths differ only by the file's).
      assert.equal(interpret(ours, p, wirelen) !== 0, plain !== 0, `${String(x.linktype)} ${x.expr}: ours departs from the unoptimized verdict`);
      assert.ok(ours.length > theirsOpt.length, `${x.expr}: no longer longer, drop it from the fixture`);
      linktypes.add(x.linktype);
    }
    assert.ok(linktypes.size >= 10, `${String(linktypes.size)} link types`);
  });

  it("holds, for the accept table's rest, a packet where 1.10.3's -O departs from the program libpcap's own table expects", (t) => {
    if (!needs(t, { 'gcc and libpcap-dev (oracle)': haveOracle() })) return;
    assert.ok(byTable.length >= 2);
    const items = acceptSizeItems();
    for (const x of byTable) {
      const p = Buffer.from(x.packet, 'hex');
      const expected = items.find((i) => i.dlt === x.linktype && i.expr === x.expr)?.expected;
      assert.ok(expected !== undefined, `${x.expr}: not in the accept table with an expected program`);
      const theirsOpt = oracleCompile(x.linktype, x.expr, { optimize: true });
      const want = interpret(expected, p, p.length);
      assert.notEqual(interpret(theirsOpt, p, p.length), want, `${x.expr}: 1.10.3 -O agrees with the table`);
      const ours = compileFilter(x.expr, { linktype: x.linktype, resolveNames: false, optimize: true });
      assert.equal(interpret(ours, p, p.length), want, `${x.expr}: ours departs from the table`);
      assert.ok(ours.length > theirsOpt.length, `${x.expr}: no longer longer, drop it from the fixture`);
    }
  });

  it('measures a seeded random set the same way every time, and excuses only with a real disagreement', (t) => {
    if (!needs(t, { 'gcc and libpcap-dev (oracle)': haveOracle() })) return;
    const set = randomExpressions(7, 210);
    assert.deepEqual(set, randomExpressions(7, 210));
    const { rows, summary } = measureSizes(set);
    t.diagnostic(JSON.stringify(summary));
    assert.ok(summary.compared >= 150, `${String(summary.compared)} compared`);
    // Every link type is in the set.
    assert.ok(new Set(set.map((e) => e.dlt)).size >= 21);
    for (const r of rows) {
      if (r.excuse === undefined) continue;
      const theirsOpt = oracleCompile(r.dlt, r.expr, { optimize: true });
      const theirsPlain = oracleCompile(r.dlt, r.expr);
      const { packet, wirelen } = r.excuse;
      assert.ok(wirelen >= packet.length, r.expr);
      assert.notEqual(interpret(theirsOpt, packet, wirelen), interpret(theirsPlain, packet, wirelen), r.expr);
    }
  });
});
