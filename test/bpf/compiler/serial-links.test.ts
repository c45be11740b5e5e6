// The serial-line link types tcpdump's corpus holds (PPP, PPP_SERIAL, C_HDLC,
// FRELAY, SLIP) and their neighbours PPP_ETHER and PPP_BSDOS: libpcap
// 1.10.3's programs instruction for instruction, and tcpdump's verdicts on
// every packet of every corpus capture of those link types.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DLT, UnsupportedLinktypeError, compileFilter } from '../../../src/bpf/compiler/index.js';
import { filterMain } from '../../../src/bpf/filter-command.js';
import { dumpProgram } from '../../../src/bpf/print/index.js';
import { jit } from '../../../src/bpf/runtime/index.js';
import { SourceSyntaxError } from '../../../src/core/index.js';
import { packetsOf } from '../capture-packets.js';
import { captureIo } from '../../helpers/io.js';
import { haveCommand, needs, sharedDir } from '../../helpers/system.js';
import { GENERIC } from '../oracle/expressions.js';
import { OracleError, haveOracle, oracleApply, oracleDump } from '../oracle/oracle.js';
import { savefileOf } from './savefile.js';

const SERIAL = [DLT.SLIP, DLT.PPP, DLT.PPP_BSDOS, DLT.PPP_SERIAL, DLT.PPP_ETHER, DLT.C_HDLC, DLT.FRELAY];

/** What these link types add: OSI over HDLC and Frame Relay, MPLS, PPP protocol numbers, SLIP's direction. */
const SERIAL_EXPRS: readonly string[] = [
  'iso', 'isis', 'esis', 'clnp', 'l1', 'l2 and isis', 'iso proto 0x81', 'isis proto 17',
  'mpls', 'mpls 100 and ip', 'link proto 0x800', 'link proto 0x21', 'ppp[2:2] = 0x21', 'slip[0] = 1', 'link[0] & 1 = 1',
  'stp', 'ipx', 'decnet', 'atalk', 'pppoed', 'pppoes', 'pppoes 3 and ip', 'arp', 'ip6 multicast', 'ip multicast',
  'proto 17', 'netbeui', 'ip and tcp[tcpflags] & tcp-syn != 0', 'icmp6 and ip6[40] == 135',
];

/** Deliberate departures (src/bpf/compiler/index.ts): arithmetic keeps both operands' checks; no live-capture metadata. */
const DELIBERATE = /^ip\[2:2\] - |\b(inbound|outbound)\b/;

const corpus = join(sharedDir, 'bpf', 'pcaps', 'tcpdump');

describe('serial-line link types', () => {
  it('compile as libpcap 1.10.3 does, instruction for instruction (tcpdump -d -O)', (t) => {
    if (!needs(t, { 'gcc and libpcap-dev (oracle)': haveOracle() })) return;
    let same = 0;
    const diffs: string[] = [];
    for (const dlt of SERIAL) {
      for (const expr of [...GENERIC, ...SERIAL_EXPRS, 'inbound', 'outbound']) {
        if (expr.startsWith("ip[2:2] - ") || (DELIBERATE.test(expr) && dlt !== DLT.SLIP)) continue;
        let theirs: string;
        try {
          theirs = oracleDump(dlt, expr, 1);
        } catch (e) {
          if (!(e instanceof OracleError)) throw e;
          // libpcap refuses it: so must we, with a placed syntax error.
          assert.throws(() => compileFilter(expr, { linktype: dlt, resolveNames: false }), SourceSyntaxError, `${String(dlt)} ${expr}`);
          continue;
        }
        const mine = dumpProgram(compileFilter(expr, { linktype: dlt, resolveNames: false }), 1);
        if (mine === theirs) same++;
        else diffs.push(`${String(dlt)} ${expr}`);
      }
    }
    t.diagnostic(`${String(same)} programs equal`);
    assert.deepEqual(diffs, []);
    assert.ok(same > 250);
  });

  it("agree with tcpdump -r on every packet of the corpus's captures of these link types", async (t) => {
    if (!needs(t, { 'gcc and libpcap-dev (oracle)': haveOracle() })) return;
    const files = readdirSync(corpus).filter((f) => f.endsWith('.pcap')).sort();
    let captures = 0;
    let decisions = 0;
    const bad: string[] = [];
    const seen = new Set<number>();
    // Every capture gets 16 expressions of the set in turn (each expression
    // meets every link type): ~500 runs of the oracle instead of ~2,000.
    const exprs = [...GENERIC, ...SERIAL_EXPRS].filter((e) => !DELIBERATE.test(e));
    let turn = 0;
    for (const name of files) {
      const file = join(corpus, name);
      const packets = await packetsOf(file);
      const linktype = packets[0]?.linktype;
      if (linktype === undefined || !SERIAL.includes(linktype as 8)) continue;
      captures++;
      seen.add(linktype);
      for (let k = 0; k < 16; k++) {
        const expr = exprs[turn++ % exprs.length] ?? 'ip';
        let want: number[];
        try {
          want = oracleApply(file, expr, false).results;
        } catch (e) {
          if (e instanceof OracleError) continue;
          throw e;
        }
        const fn = jit(compileFilter(expr, { linktype, resolveNames: false, savefile: savefileOf(file) }));
        packets.forEach((p, i) => {
          decisions++;
          // Accepted or not: the snap length differs (ours 262144, libpcap's the file's).
          if ((fn(p.data, p.origlen, p.data.length) !== 0) !== ((want[i] ?? 0) !== 0)) bad.push(`${name} packet ${String(i)}: '${expr}'`);
        });
      }
    }
    t.diagnostic(`${String(captures)} captures, ${String(decisions)} decisions`);
    assert.deepEqual(bad.slice(0, 20), []);
    // PPP, PPP_SERIAL, C_HDLC, FRELAY and SLIP are all in the corpus.
    assert.deepEqual([...seen].sort((a, b) => a - b), [DLT.SLIP, DLT.PPP, DLT.PPP_SERIAL, DLT.C_HDLC, DLT.FRELAY]);
    assert.ok(captures >= 30 && decisions > 3000, `${String(captures)} captures, ${String(decisions)} decisions`);
  });

  it('moat bpf filter writes what tcpdump -r -w writes', async (t) => {
    if (!needs(t, { tcpdump: haveCommand('tcpdump') })) return;
    const dir = mkdtempSync(join(tmpdir(), 'moat-bpf-serial-'));
    try {
      for (const [name, expr] of [['HDLC.pcap', 'ip'], ['HDLC.pcap', 'iso'], ['ppp_ip_udp_dns.pcap', 'udp port 53'], ['OSPFv3_NBMA_adjacencies.pcap', 'ip6'], ['slip-bad-direction.pcap', 'inbound']] as const) {
        const ours = join(dir, 'ours.pcap');
        const theirs = join(dir, 'theirs.pcap');
        assert.equal(await filterMain(['-r', join(corpus, name), '-w', ours, expr], captureIo()), 0, `${name} ${expr}`);
        const r = spawnSync('tcpdump', ['-r', join(corpus, name), '-w', theirs, expr], { encoding: 'utf8' });
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(readFileSync(ours), readFileSync(theirs), `${name} ${expr}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a link type it does not compile for without blaming the expression', () => {
    for (const expr of ['ip', '', 'tcp port 80']) {
      assert.throws(
        () => compileFilter(expr, { linktype: 147 }),
        (e: unknown) => e instanceof UnsupportedLinktypeError && !(e instanceof SyntaxError) && /link-layer type 147 .* not supported/.test(e.message),
      );
    }
    // The expression's own error comes first, with its caret, as libpcap would report it.
    assert.throws(() => compileFilter('tcp and', { linktype: 147 }), SourceSyntaxError);
  });
});
