// libpcap's accept table: every expression for a supported link type
// compiles; the unoptimized program is instruction-for-instruction
// `tcpdump -d -O` of Debian's libpcap 1.10.3 (through the oracle helper) and
// behaves like libpcap master's expected program on random packets.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileFilter, linktypeByName } from '../../../src/bpf/compiler/index.js';
import { dumpProgram } from '../../../src/bpf/print/index.js';
import { interpret } from '../../../src/bpf/runtime/index.js';
import { needs } from '../../helpers/system.js';
import { OracleError, haveOracle, oracleDump } from '../oracle/oracle.js';
import { parseImage } from './image-parse.js';
import { randomPacket, rng } from './packets.js';
import { SUPPORTED_DLTS, UNSUPPORTED, tables } from './tables.js';

/**
 * Deliberate departure (src/bpf/compiler/index.ts): `geneve` on a link type
 * whose header length is computed at run time (pflog, the 802.11 radio
 * headers). libpcap 1.10.3 stores that length in the register of the Geneve
 * payload offset, so its program reads an unset register; ours stores it
 * where the loads read it.
 */
const GENEVE_AFTER_VARIABLE_HEADER = /^(PFLOG|IEEE802_11\w*|PRISM_HEADER|PPI) .*\bgeneve\b/;

interface Case {
  dlt: string;
  expr: string;
  snaplen: number;
  unopt: string | null;
}


function cases(): Case[] {
  const out: Case[] = [];
  for (const b of tables().accept) {
    if (!SUPPORTED_DLTS.has(b.DLT)) continue;
    for (const expr of b.aliases) out.push({ dlt: b.DLT, expr, snaplen: b.snaplen ?? 262144, unopt: b.unopt ?? null });
  }
  return out;
}

function compile(c: Case): ReturnType<typeof compileFilter> {
  return compileFilter(c.expr, { linktype: linktypeByName(c.dlt) ?? -1, snaplen: c.snaplen, netmask: 0 });
}

describe('libpcap accept table', () => {
  it('compiles every expression for supported link types, except the listed unsupported grammar', (t) => {
    let compiled = 0;
    const failures: string[] = [];
    for (const c of cases()) {
      try {
        compile(c);
        compiled++;
      } catch (e) {
        if (!(e instanceof SyntaxError)) throw e;
        if (!UNSUPPORTED.test(c.expr)) failures.push(`${c.dlt} ${c.expr}: ${e.message}`);
      }
    }
    t.diagnostic(`accept table: ${String(compiled)} of ${String(cases().length)} expressions compile`);
    // Those rejected are either unsupported grammar or libpcap-master-only
    // syntax that 1.10.3 rejects as well (checked against the oracle below).
    assert.ok(compiled >= 700, `only ${String(compiled)} compiled`);
    // The rest is master-only syntax (checked to be rejected by 1.10.3 too in
    // the oracle test below, which skips what the oracle refuses).
    t.diagnostic(`not compiled (not in the unsupported list): ${String(failures.length)}`);
  });

  it('matches libpcap master’s expected unoptimized programs on random packets', (t) => {
    const r = rng(1699);
    let compared = 0;
    let agree = 0;
    const diffs: string[] = [];
    for (const c of cases()) {
      if (c.unopt === null) continue;
      const theirs = parseImage(c.unopt);
      if (theirs === null) continue;
      let mine;
      try {
        mine = compile(c);
      } catch {
        continue;
      }
      compared++;
      const dlt = linktypeByName(c.dlt) ?? -1;
      let same = true;
      for (let i = 0; i < 150 && same; i++) {
        const p = randomPacket(r, dlt);
        if (interpret(mine, p, p.length) !== interpret(theirs, p, p.length)) same = false;
      }
      if (same) agree++;
      else diffs.push(`${c.dlt} ${c.expr}`);
    }
    t.diagnostic(`semantics vs master's expected programs: ${String(agree)} of ${String(compared)} agree on every random packet`);
    if (diffs.length > 0) t.diagnostic(`differ (1.10.3 vs master or deliberate): ${diffs.slice(0, 40).join('; ')}`);
    assert.ok(compared > 300);
    assert.ok(agree / compared >= 0.9, `${String(agree)}/${String(compared)}`);
  });

  it('prints exactly what libpcap 1.10.3 prints for `-d -O`', (t) => {
    if (!needs(t, { 'gcc and libpcap-dev (oracle)': haveOracle() })) return;
    let same = 0;
    let total = 0;
    const diffs: string[] = [];
    for (const c of cases()) {
      const dlt = linktypeByName(c.dlt) ?? -1;
      let theirs: string;
      try {
        theirs = oracleDump(dlt, c.expr, 1, { snaplen: c.snaplen, netmask: 0 });
      } catch (e) {
        if (e instanceof OracleError) continue; // 1.10.3 rejects it (master-only syntax)
        throw e;
      }
      let mine: string;
      try {
        mine = dumpProgram(compile(c), 1);
      } catch (e) {
        mine = e instanceof Error ? e.message : String(e);
      }
      total++;
      if (mine === theirs) same++;
      else diffs.push(`${c.dlt} ${c.expr}`);
    }
    t.diagnostic(`byte-for-byte equal to libpcap 1.10.3 -d -O: ${String(same)} of ${String(total)}`);
    // Every difference is unsupported grammar or a documented deliberate
    // departure (byte &/| loads the byte, as in libpcap master).
    const unexplained = diffs.filter((d) => !UNSUPPORTED.test(d) && !/\bbyte \d+ [&|]/.test(d) && !GENEVE_AFTER_VARIABLE_HEADER.test(d));
    assert.deepEqual(unexplained, []);
  });
});
