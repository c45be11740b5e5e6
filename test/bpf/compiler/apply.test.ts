// libpcap's apply table: the per-packet results of pcap_offline_filter on
// the captures in the shared test data. Ours must equal the oracle's
// (libpcap 1.10.3) on every packet; we also report agreement with the
// table's results, which come from libpcap master.
import { join } from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { packetsOf } from '../capture-packets.js';
import { UnsupportedLinktypeError, compileFilter, normalizeLinktype } from '../../../src/bpf/compiler/index.js';
import { interpret } from '../../../src/bpf/runtime/index.js';
import { needs, sharedDir } from '../../helpers/system.js';
import { OracleError, haveOracle, oracleApply } from '../oracle/oracle.js';
import { savefileOf } from './savefile.js';
import { UNSUPPORTED, tables } from './tables.js';

const dir = join(sharedDir, 'bpf', 'pcaps', 'libpcap-filter');

describe('libpcap apply table', () => {
  it('gives the oracle’s result on every packet, and reports agreement with master', async (t) => {
    const oracle = haveOracle();
    let compiled = 0;
    let masterAgree = 0;
    let oracleCompared = 0;
    const oracleDiffs: string[] = [];
    const unsupported: string[] = [];
    for (const c of tables().apply) {
      const file = join(dir, c.savefile);
      const packets = await packetsOf(file);
      const first = packets[0];
      if (first === undefined) continue;
      let results: number[];
      try {
        // pcap_offline_filter compiles with the capture's snap length; the
        // table's accepting results are that value.
        const snaplen = Math.max(0, ...c.results) || 262144;
        const prog = compileFilter(c.expr, { linktype: normalizeLinktype(first.linktype), netmask: 0, snaplen, savefile: savefileOf(file) });
        results = packets.map((p) => interpret(prog, p.data, p.origlen));
      } catch (e) {
        if (!(e instanceof SyntaxError) && !(e instanceof UnsupportedLinktypeError)) throw e;
        unsupported.push(`${c.name}: ${e.message}`);
        continue;
      }
      compiled++;
      if (results.length === c.results.length && results.every((v, i) => v === c.results[i])) masterAgree++;
      if (!oracle) continue;
      try {
        const theirs = oracleApply(file, c.expr);
        oracleCompared++;
        const n = Math.min(theirs.results.length, results.length);
        if (!results.slice(0, n).every((v, i) => v === theirs.results[i])) oracleDiffs.push(c.name);
      } catch (e) {
        if (!(e instanceof OracleError)) throw e;
      }
    }
    t.diagnostic(`apply table: ${String(compiled)} of ${String(tables().apply.length)} cases compile; ${String(masterAgree)} agree with master's results; ${String(oracleCompared - oracleDiffs.length)} of ${String(oracleCompared)} equal libpcap 1.10.3 per packet`);
    const why = new Map<string, number>();
    for (const u of unsupported) {
      const k = u.replace(/^[^:]*: /, '').replace(/'[^']*'/g, "'…'").replace(/\d+/g, 'N');
      why.set(k, (why.get(k) ?? 0) + 1);
    }
    t.diagnostic(`not compiled: ${[...why].map(([k, n]) => `${k} ×${String(n)}`).join('; ')}`);
    assert.ok(compiled >= 50);
    assert.ok(masterAgree >= compiled * 0.7);
    if (!needs(t, { 'gcc and libpcap-dev (oracle)': oracle })) return;
    assert.deepEqual(oracleDiffs.filter((d) => !UNSUPPORTED.test(d)), []);
  });
});
