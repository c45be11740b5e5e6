import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileFilter } from '../../../src/bpf/compiler/index.js';
import { checkConfined, confine, jailFilter, MAX_RADIOTAP_WORDS, MAX_VLAN_TAGS } from '../../../src/bpf/confine/index.js';
import type { Insn } from '../../../src/bpf/insn.js';
import { interpret, validate } from '../../../src/bpf/runtime/index.js';
import { haveOracle, oracleCompile } from '../oracle/oracle.js';
import { needs } from '../../helpers/system.js';
import { threadJumps } from '../../../src/bpf/confine/thread-jumps.js';
import { randomPacket, randomProgram, rng } from '../runtime/random-program.js';
import { LINKTYPES, makePacket } from './packet-maker.js';
import { allowed, jailOf } from './reference-decoder.js';

const J = '192.0.2.1';
const J6 = '2001:db8::1';
const opts = { addrs: [J, J6], linktype: 1 };
const PREFIX = `ip and (host ${J} or multicast or broadcast)`;
const ACCEPT_ALL: Insn[] = [{ code: 0x06, jt: 0, jf: 0, k: 262144 }];
const LIMITS = { tags: MAX_VLAN_TAGS, radiotapWords: MAX_RADIOTAP_WORDS };

/**
 * An untagged IPv4 frame between two foreign hosts. libpcap 1.10.3 shifts
 * later offsets by 4 for each `vlan` in `(vlan or not vlan)`, so the jail
 * prefix reads its EtherType at 20 and its address at 34: put 0x0800 and the
 * jail's address there (fragment field and payload of the real packet).
 */
function vlanTrick(): Uint8Array {
  const p = new Uint8Array(60);
  p.set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 0);
  p.set([0x08, 0x00], 12); // real EtherType: IPv4 at 14
  p.set([0x45, 0, 0, 40], 14);
  p.set([0x08, 0x00], 20); // fragment field, read as the EtherType after the shift
  p.set([198, 51, 100, 7], 26); // real source: foreign
  p.set([198, 51, 100, 8], 30); // real destination: foreign
  p.set([192, 0, 2, 1], 34); // payload, read as the source address after the shift
  return p;
}

describe('confine', () => {
  it('builds a proven, valid program for every supported link type', () => {
    for (const linktype of LINKTYPES) {
      for (const [multicast, broadcast] of [[true, true], [false, false]] as const) {
        const o = { ...opts, linktype, multicast, broadcast };
        const prog = confine(ACCEPT_ALL, o);
        assert.deepEqual(validate(prog), [], `linktype ${String(linktype)}`);
        assert.equal(checkConfined(prog, o).ok, true);
        assert.ok(prog.length < 512, `linktype ${String(linktype)}: ${String(prog.length)} instructions`);
        assert.deepEqual(checkConfined(ACCEPT_ALL, o).ok, false, 'an unconfined program is refused');
      }
    }
  });

  it('is exactly "jail ? user : reject", and the jail is exactly the reference policy', () => {
    const r = rng(5);
    const user = compileFilter('tcp or udp port 53 or len > 70', { linktype: 1 });
    const policies = [
      { addrs: [J, J6], multicast: true, broadcast: true },
      { addrs: [J], multicast: false, broadcast: false },
      { addrs: [J6], multicast: false, broadcast: true },
    ];
    for (const [n, linktype] of LINKTYPES.entries()) {
      // Every link type with the full policy, and one of the narrower ones.
      for (const policy of [policies[0], policies[1 + (n % 2)]]) {
        if (policy === undefined) continue;
        const o = { ...policy, linktype };
        const jail = jailFilter(o);
        const ref = jailOf(policy.addrs, policy.multicast, policy.broadcast);
        const userProg = linktype === 1 ? user : ACCEPT_ALL;
        const confined = confine(userProg, o);
        for (let i = 0; i < 2000; i++) {
          const p = makePacket(r, linktype);
          const inJail = interpret(jail, p, p.length) !== 0;
          // The jail looks through two VLAN tags (and four radiotap present words) and rejects frames with more.
          assert.equal(inJail, allowed(p, linktype, ref, LIMITS), `linktype ${String(linktype)}: ${Buffer.from(p).toString('hex')}`);
          if (inJail) assert.equal(allowed(p, linktype, ref), true);
          assert.equal(interpret(confined, p, p.length), inJail ? interpret(userProg, p, p.length) : 0);
        }
      }
    }
  });

  it('threads jumps and drops dead code without changing any decision', () => {
    const r = rng(77);
    for (let n = 0; n < 2000; n++) {
      const prog = randomProgram(r, 2 + Math.floor(r() * 50), 60);
      const slim = threadJumps(prog);
      assert.ok(slim.length <= prog.length);
      for (let i = 0; i < 20; i++) {
        const p = randomPacket(r, 60);
        assert.equal(interpret(slim, p, p.length), interpret(prog, p, p.length), JSON.stringify(prog));
      }
    }
  });

  it('defeats bracket injection: the tenant text is compiled alone, and fails to', () => {
    assert.throws(() => compileFilter('len >= 0) or (len >= 0', { linktype: 1 }));
  });

  it('shows the string join is bypassable and that splicing is not', (t) => {
    if (!needs(t, { 'gcc and libpcap-dev': haveOracle() })) return;
    const trick = vlanTrick();
    // The bracket injection, joined as text, compiles and accepts everything, even foreign traffic.
    const injected = oracleCompile(1, `${PREFIX} and (len >= 0) or (len >= 0)`);
    assert.notEqual(interpret(injected, trick, trick.length), 0);
    assert.equal(checkConfined(injected, { addrs: [J], linktype: 1 }).ok, false);
    // Tenant first: `vlan` shifts the jail's offsets by 4 and the crafted frame gets through.
    const joined = oracleCompile(1, `(vlan or not vlan) and (${PREFIX})`);
    assert.notEqual(interpret(joined, trick, trick.length), 0, 'libpcap accepts the crafted foreign frame');
    assert.equal(allowed(trick, 1, jailOf([J])), false);
    assert.equal(checkConfined(joined, { addrs: [J], linktype: 1 }).ok, false, 'the checker refuses the joined program');
    // Spliced at the bytecode level the same tenant filter cannot do that.
    for (const user of [oracleCompile(1, 'vlan or not vlan'), compileFilter('vlan or not vlan', { linktype: 1 })]) {
      const spliced = confine(user, { addrs: [J], linktype: 1 });
      assert.equal(interpret(spliced, trick, trick.length), 0);
      assert.equal(checkConfined(spliced, { addrs: [J], linktype: 1 }).ok, true);
    }
  });

  it('proves libpcap-compiled host filters confined without any splicing', (t) => {
    if (!needs(t, { 'gcc and libpcap-dev': haveOracle() })) return;
    for (const optimize of [false, true]) {
      const o = { addrs: [J], linktype: 1, multicast: false, broadcast: false };
      assert.equal(checkConfined(oracleCompile(1, `ip host ${J}`, { optimize }), o).ok, true);
      assert.equal(checkConfined(oracleCompile(1, `ip host ${J} and tcp port 80`, { optimize }), o).ok, true);
      assert.equal(checkConfined(oracleCompile(1, `ip src ${J} or ip dst ${J}`, { optimize }), o).ok, true);
      assert.equal(checkConfined(oracleCompile(1, `host ${J}`, { optimize }), o).ok, false, 'host also matches ARP/RARP, which the policy does not allow');
      assert.equal(checkConfined(oracleCompile(1, `ip host ${J} or arp`, { optimize }), o).ok, false);
      assert.equal(checkConfined(oracleCompile(1, `ip net 192.0.2.0/24`, { optimize }), o).ok, false);
      const six = { addrs: [J6], linktype: 1, multicast: false, broadcast: false };
      assert.equal(checkConfined(oracleCompile(1, `ip6 host ${J6}`, { optimize }), six).ok, true);
    }
  });

  it('refuses what it cannot prove or fit, naming why', () => {
    const backward: Insn[] = [{ code: 0x05, jt: 0, jf: 0, k: 0xffffffff }, { code: 0x06, jt: 0, jf: 0, k: 1 }];
    assert.throws(() => confine(backward, opts), { code: 'MOAT_BPF_CONFINE_INVALID' });
    const big = [...Array.from({ length: 500 }, () => ({ code: 0x00, jt: 0, jf: 0, k: 1 })), ...ACCEPT_ALL];
    assert.throws(() => confine(big, { ...opts, freebsd: true }), { code: 'MOAT_BPF_CONFINE_TOO_LONG' });
    assert.throws(() => confine(ACCEPT_ALL, { ...opts, linktype: 9 }), { code: 'MOAT_BPF_CONFINE_LINKTYPE' }); // PPP
    assert.throws(() => confine(ACCEPT_ALL, { ...opts, addrs: ['jail.example'] }), { code: 'MOAT_BPF_CONFINE_ADDRESS' });
  });
});
