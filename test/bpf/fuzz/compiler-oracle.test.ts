// Our compiler's per-packet decisions ≡ libpcap 1.10.3's (unoptimized), on
// the apply tests of libpcap's TESTrun and on every shared capture.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CapturePacket } from '../../../src/core/index.js';
import { packetsOf } from '../capture-packets.js';
import { compileFilter } from '../../../src/bpf/compiler/index.js';
import { jit } from '../../../src/bpf/runtime/index.js';
import { ETHER, GENERIC } from '../oracle/expressions.js';
import { OracleError, haveOracle, oracleApply } from '../oracle/oracle.js';
import { needs, sharedDir } from '../../helpers/system.js';
import { savefileOf } from '../compiler/savefile.js';

const bpfDir = join(sharedDir, 'bpf');

/**
 * Where the compiler departs from 1.10.3 on purpose (see src/bpf/compiler/index.ts):
 * arithmetic keeps the protocol checks of both operands.
 */
const DELIBERATE = new Set(['ip[2:2] - ((ip[0]&0xf)<<2) - ((tcp[12]&0xf0)>>2) != 0']);

// EN10MB, RAW (12, 14, 101), IPV4, IPV6, NULL, LOOP, LINUX_SLL, LINUX_SLL2, PFLOG,
// 802.11 with its radio headers: IEEE802_11, PRISM_HEADER, IEEE802_11_RADIO, IEEE802_11_RADIO_AVS, PPI,
// and the serial lines: SLIP, PPP, PPP_BSDOS, PPP_SERIAL, PPP_ETHER, C_HDLC, FRELAY.
const FIRST_TIER = new Set([1, 12, 14, 101, 228, 229, 0, 108, 113, 276, 117, 105, 119, 127, 163, 192, 8, 9, 16, 50, 51, 104, 107]);
const WLAN_LINKTYPES = new Set([105, 119, 127, 163, 192]);

/** Geneve (RFC 8926): what follows it is matched against the encapsulated frame. */
const GENEVE: readonly string[] = [
  'geneve',
  'geneve 10',
  'geneve and tcp src port 22',
  'geneve and ether broadcast',
  'geneve and ip host 10.0.0.1',
  'udp port 6081 or geneve and arp',
];

/** 802.11 frames, types, directions, addresses, and IP over LLC/SNAP. */
const WLAN: readonly string[] = [
  'wlan type mgt',
  'wlan type ctl',
  'wlan type data',
  'wlan subtype beacon',
  'wlan subtype probe-req or wlan subtype probe-resp',
  'wlan type data subtype qos-data',
  'wlan subtype ack or wlan subtype cts',
  'wlan dir nods',
  'wlan dir tods',
  'wlan dir fromds',
  'wlan dir dstods',
  'wlan host ff:ff:ff:ff:ff:ff',
  'wlan src 00:11:22:33:44:55 or wlan ta 00:11:22:33:44:55',
  'wlan ra 00:11:22:33:44:55 or wlan addr1 ff:ff:ff:ff:ff:ff',
  'wlan addr2 00:11:22:33:44:55 or wlan addr3 00:11:22:33:44:55 or wlan addr4 00:11:22:33:44:55',
  'broadcast',
  'multicast',
  'llc',
  'arp',
  'ip and udp',
  'link[0] & 0xfc == 0x88',
  'type data and (ip6 or icmp)',
];
const gaps = { count: 0 };

/** Compare one expression on one capture: decisions compared (0 when libpcap does not compile it); mismatches go to `bad`. */
function compare(file: string, packets: CapturePacket[], expr: string, bad: string[]): number {
  let want;
  try {
    want = oracleApply(file, expr, false).results;
  } catch (e) {
    if (e instanceof OracleError) return 0;
    throw e;
  }
  if (DELIBERATE.has(expr)) return 0;
  const linktype = packets[0]?.linktype ?? 1;
  let fn;
  try {
    fn = jit(compileFilter(expr, { linktype, resolveNames: false, savefile: savefileOf(file) }));
  } catch (e) {
    // Link types beyond the first tier, and keywords the compiler declares unsupported,
    // are a known gap (counted), not a disagreement.
    const declared = e instanceof Error && /not (supported|implemented)/.test(e.message);
    if (!FIRST_TIER.has(linktype) || declared) gaps.count++;
    else bad.push(`'${expr}' on linktype ${String(linktype)}: libpcap compiles it, we do not: ${String(e)}`);
    return 0;
  }
  const wrong = packets.findIndex((p, i) => (fn(p.data, p.origlen, p.data.length) !== 0) !== ((want[i] ?? 0) !== 0));
  if (wrong >= 0) bad.push(`'${expr}' on ${file} packet ${String(wrong)}: libpcap says ${String(want[wrong])}`);
  return packets.length;
}

describe('compiler ≡ libpcap, packet by packet', () => {
  it('on the apply tests of libpcap-filter-tests.json', async (t) => {
    if (!needs(t, { 'gcc and libpcap-dev': haveOracle() })) return;
    const tests = (JSON.parse(readFileSync(join(bpfDir, 'libpcap-filter-tests.json'), 'utf8')) as { apply: { expr: string; savefile: string }[] }).apply;
    let compared = 0;
    const bad: string[] = [];
    for (const { expr, savefile } of tests) {
      const file = join(bpfDir, 'pcaps', 'libpcap-filter', savefile);
      compared += compare(file, await packetsOf(file), expr, bad);
    }
    t.diagnostic(`${String(compared)} decisions compared; ${String(gaps.count)} expression/capture pairs skipped as declared compiler gaps`);
    assert.deepEqual(bad, []);
    assert.ok(compared > 500, `compared ${String(compared)} decisions`);
  });

  it('on every shared capture, for our expression set', async (t) => {
    if (!needs(t, { 'gcc and libpcap-dev': haveOracle() })) return;
    const all = [...GENERIC, ...ETHER, ...GENEVE];
    const wlan = [...GENERIC, ...WLAN];
    let n = 0;
    let compared = 0;
    const bad: string[] = [];
    for (const dir of ['libpcap-filter', 'tcpdump']) {
      for (const name of readdirSync(join(bpfDir, 'pcaps', dir)).sort()) {
        const file = join(bpfDir, 'pcaps', dir, name);
        const packets = await packetsOf(file);
        if (packets.length === 0) continue;
        // Every capture gets two expressions of its set in turn; the small apply captures get all.
        const set = WLAN_LINKTYPES.has(packets[0]?.linktype ?? 1) ? wlan : all;
        const exprs = dir === 'libpcap-filter' ? set : [set[n++ % set.length] ?? 'ip', set[n++ % set.length] ?? 'ip'];
        for (const expr of exprs) compared += compare(file, packets, expr, bad);
      }
    }
    t.diagnostic(`${String(compared)} decisions compared; ${String(gaps.count)} pairs skipped as declared compiler gaps so far`);
    assert.deepEqual(bad, []);
    assert.ok(compared > 10000, `compared ${String(compared)} decisions`);
  });
});
