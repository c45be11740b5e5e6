// Confinement on the link types whose IP header sits at an offset read from
// the packet (PFLOG, the 802.11 family): the CLI, libpcap's own programs, a
// tenant that overwrites the jail's X and M[], mutated jails the checker must
// refuse (or, if it proves them, that never let a foreign packet through),
// and the reference decoder held against libpcap where the two layouts agree.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkConfined, confine, jailFilter, MAX_RADIOTAP_WORDS, MAX_VLAN_TAGS } from '../../../src/bpf/confine/index.js';
import { parseCaptureBuffer } from '../../../src/core/index.js';
import { confineMain } from '../../../src/bpf/confine-command.js';
import type { Insn } from '../../../src/bpf/insn.js';
import { interpret, validate } from '../../../src/bpf/runtime/index.js';
import { captureIo } from '../../helpers/io.js';
import { needs, sharedDir } from '../../helpers/system.js';
import { haveOracle, oracleCompile } from '../oracle/oracle.js';
import { int, rng } from '../runtime/random-program.js';
import { makePacket, VARIABLE_LINKTYPES } from './packet-maker.js';
import { allowed, findIp, jailOf } from './reference-decoder.js';

const J = '192.0.2.1';
const J6 = '2001:db8::1';
const NAMES: Record<number, string> = { 117: 'PFLOG', 105: 'IEEE802_11', 127: 'IEEE802_11_RADIO', 119: 'PRISM_HEADER', 163: 'IEEE802_11_RADIO_AVS', 192: 'PPI' };

const be32 = (p: Uint8Array, o: number): number => (((p[o] ?? 0) << 24) | ((p[o + 1] ?? 0) << 16) | ((p[o + 2] ?? 0) << 8) | (p[o + 3] ?? 0)) >>> 0;
const le16 = (p: Uint8Array, o: number): number => (p[o] ?? 0) | ((p[o + 1] ?? 0) << 8);

/**
 * Does libpcap 1.10.3 put the IP header where the specs do, for this frame?
 * It skips no fourth address, HT Control field or A-MSDU check, pads from
 * the packet's start and only with one radiotap word, trusts the AVS length
 * and magic, and tests only the EtherType after LLC; `ip` looks through no
 * VLAN tag. Outside those cases the two must agree on `ip host`.
 */
function libpcapLayout(p: Uint8Array, linktype: number): boolean {
  let r = 0;
  if (linktype === 127) {
    if (p[0] !== 0) return false; // libpcap does not check it_version
    r = le16(p, 2);
    const flags = ((p[4] ?? 0) & 0x02) !== 0;
    if (flags && (((p[7] ?? 0) & 0x80) !== 0 || r % 4 !== 0)) return false;
  } else if (linktype === 192) {
    if (p[0] !== 0) return false;
    r = le16(p, 2);
  } else if (linktype === 163 || linktype === 119) {
    const avs = (be32(p, 0) & 0xfffff000) >>> 0 === 0x80211000;
    if (linktype === 163 && !avs) return false;
    r = avs ? be32(p, 4) : 144;
    if (r >= 0x10000) return false;
  }
  const fc0 = p[r] ?? 0;
  const fc1 = p[r + 1] ?? 0;
  if ((fc0 & 0x43) !== 0 || (fc1 & 0x03) === 0x03) return false;
  const qos = (fc0 & 0x80) !== 0;
  if (qos && (((fc1 & 0x80) !== 0) || ((p[r + 24] ?? 0) & 0x80) !== 0)) return false;
  const llc = r + 24 + (qos ? 2 : 0);
  return p.length >= llc + 6 && Buffer.from(p.subarray(llc, llc + 6)).toString('hex') === 'aaaa03000000';
}

describe('confine on variable-offset link types', () => {
  it('works from the CLI on each of them', async () => {
    for (const [linktype, name] of Object.entries(NAMES)) {
      const io = captureIo();
      assert.equal(await confineMain(['--addr', J, '--addr', J6, '-y', name, '--json', 'tcp or udp'], io), 0, name);
      const prog = JSON.parse(io.out()) as Insn[];
      assert.deepEqual(validate(prog), [], name);
      assert.equal(checkConfined(prog, { addrs: [J, J6], linktype: Number(linktype) }).ok, true, name);
      const text = captureIo();
      assert.equal(await confineMain(['--addr', J, '-y', name, '--no-broadcast', '--no-multicast', ''], text), 0);
      assert.match(text.out(), /^\(000\) /);
    }
  });

  it('proves libpcap-compiled PFLOG host filters, and refuses libpcap 802.11 ones', (t) => {
    if (!needs(t, { 'gcc and libpcap-dev': haveOracle() })) return;
    const o = { addrs: [J, J6], linktype: 117, multicast: false, broadcast: false };
    for (const optimize of [false, true]) {
      assert.equal(checkConfined(oracleCompile(117, `ip host ${J}`, { optimize }), o).ok, true);
      assert.equal(checkConfined(oracleCompile(117, `ip6 host ${J6} and tcp`, { optimize }), o).ok, true);
      assert.equal(checkConfined(oracleCompile(117, `ip net 192.0.2.0/24`, { optimize }), o).ok, false);
      // libpcap reads a 4-address frame's payload 6 bytes early: its `ip host` is not confinement.
      assert.equal(checkConfined(oracleCompile(105, `ip host ${J}`, { optimize }), { ...o, linktype: 105 }).ok, false);
    }
  });

  it('cannot be escaped by a tenant that overwrites X and M[] (the verdict is already in)', () => {
    // The tenant stores over the jail's slots, points X anywhere, then accepts.
    const hostile: Insn[] = [
      { code: 0x00, jt: 0, jf: 0, k: 1 }, { code: 0x02, jt: 0, jf: 0, k: 0 }, { code: 0x02, jt: 0, jf: 0, k: 1 },
      { code: 0x01, jt: 0, jf: 0, k: 3 }, { code: 0x03, jt: 0, jf: 0, k: 2 }, { code: 0x61, jt: 0, jf: 0, k: 1 },
      { code: 0x50, jt: 0, jf: 0, k: 0 }, { code: 0x06, jt: 0, jf: 0, k: 262144 },
    ];
    const r = rng(9);
    for (const linktype of VARIABLE_LINKTYPES) {
      const o = { addrs: [J, J6], linktype };
      const prog = confine(hostile, o);
      assert.equal(checkConfined(prog, o).ok, true);
      const jail = jailFilter(o);
      const ref = jailOf(o.addrs);
      for (let i = 0; i < 3000; i++) {
        const p = makePacket(r, linktype);
        const got = interpret(prog, p, p.length);
        assert.equal(got, interpret(jail, p, p.length) !== 0 ? interpret(hostile, p, p.length) : 0);
        if (got !== 0) assert.equal(allowed(p, linktype, ref), true, Buffer.from(p).toString('hex'));
      }
    }
  });

  it('refuses mutated jails, and any it proves still never lets a foreign packet through', () => {
    const r = rng(31);
    for (const linktype of VARIABLE_LINKTYPES) {
      const o = { addrs: [J], linktype };
      const ref = jailOf(o.addrs);
      const jail = jailFilter(o);
      let refused = 0;
      let proven = 0;
      for (let m = 0; m < 30; m++) {
        const mutant = jail.map((i) => ({ ...i }));
        const at = int(r, mutant.length);
        const ins = mutant[at];
        if (ins === undefined) continue;
        if ((ins.code & 0x07) === 0x05 && ins.code !== 0x05) {
          if (int(r, 2) === 0) [ins.jt, ins.jf] = [ins.jf, ins.jt];
          else ins.jf = ins.jt;
        } else if ((ins.code & 0x07) !== 0x06) {
          ins.k = (ins.k + ([1, -1, 2, 4, -4, 6][int(r, 6)] ?? 1)) >>> 0;
        } else continue;
        if (!checkConfined(mutant, o).ok) {
          refused++;
          continue;
        }
        proven++;
        for (let i = 0; i < 400; i++) {
          const p = makePacket(r, linktype);
          if (interpret(mutant, p, p.length) !== 0) assert.equal(allowed(p, linktype, ref), true, `${NAMES[linktype] ?? ''} mutant at ${String(at)}: ${Buffer.from(p).toString('hex')}`);
        }
      }
      assert.ok(refused > 5, `${NAMES[linktype] ?? ''}: ${String(refused)} refused, ${String(proven)} proven`);
    }
  });

  it('finds the IP header where libpcap does, wherever libpcap reads the layout right', (t) => {
    if (!needs(t, { 'gcc and libpcap-dev': haveOracle() })) return;
    const r = rng(12);
    const ref = jailOf([J], false, false);
    for (const linktype of VARIABLE_LINKTYPES) {
      const lib = oracleCompile(linktype, `ip host ${J}`);
      let compared = 0;
      let accepted = 0;
      for (let i = 0; i < 20000; i++) {
        const p = makePacket(r, linktype);
        if (linktype !== 117 && !libpcapLayout(p, linktype)) continue;
        compared++;
        const want = interpret(lib, p, p.length) !== 0;
        if (want) accepted++;
        assert.equal(allowed(p, linktype, ref, { tags: 0 }), want, `${NAMES[linktype] ?? ''}: ${Buffer.from(p).toString('hex')}`);
      }
      assert.ok(compared > 1000 && accepted > 50, `${NAMES[linktype] ?? ''}: ${String(compared)} compared, ${String(accepted)} accepted`);
    }
  });

  it('agrees with the reference decoder on every real 802.11 frame in the shared captures (there is no pflog one)', () => {
    const frames: { linktype: number; data: Uint8Array }[] = [];
    for (const dir of ['tcpdump', 'libpcap-filter']) {
      const d = join(sharedDir, 'bpf', 'pcaps', dir);
      for (const f of readdirSync(d)) {
        let packets;
        try {
          packets = [...parseCaptureBuffer(readFileSync(join(d, f)))];
        } catch {
          continue; // not a capture, or a damaged one (some are, on purpose)
        }
        for (const p of packets) if (VARIABLE_LINKTYPES.includes(p.linktype)) frames.push({ linktype: p.linktype, data: p.data });
      }
    }
    // Jail each frame's own source address: the IP frames must be accepted, by the jail and the reference alike.
    const sources = new Set<string>();
    for (const { linktype, data } of frames) {
      const ip = findIp(data, linktype);
      if (ip === undefined || data.length < ip.off + 40) continue;
      const src = ip.family === 4 ? [...data.subarray(ip.off + 12, ip.off + 16)].join('.') : (Buffer.from(data.subarray(ip.off + 8, ip.off + 24)).toString('hex').match(/.{4}/g) ?? []).join(':');
      sources.add(src);
    }
    assert.ok(frames.length > 200 && sources.size >= 2, `${String(frames.length)} frames, sources ${[...sources].join(' ')}`);
    let accepted = 0;
    for (const linktype of new Set(frames.map((f) => f.linktype))) {
      const o = { addrs: [...sources], linktype };
      const jail = jailFilter(o);
      const ref = jailOf(o.addrs);
      for (const { data } of frames.filter((f) => f.linktype === linktype)) {
        const got = interpret(jail, data, data.length) !== 0;
        if (got) accepted++;
        assert.equal(got, allowed(data, linktype, ref, { tags: MAX_VLAN_TAGS, radiotapWords: MAX_RADIOTAP_WORDS }), Buffer.from(data).toString('hex'));
      }
    }
    assert.ok(accepted >= 4, `${String(accepted)} real frames accepted`);
  });
});
