// Fuzzing on every CI run, bounded: a confined program never accepts a
// packet outside its addresses (over a million packets, through the JIT).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileFilter } from '../../../src/bpf/compiler/index.js';
import { confine } from '../../../src/bpf/confine/index.js';
import type { Program } from '../../../src/bpf/insn.js';
import { jit } from '../../../src/bpf/runtime/index.js';
import { LINKTYPES, makePacket } from '../confine/packet-maker.js';
import { allowed, jailOf } from '../confine/reference-decoder.js';
import { rng } from '../runtime/random-program.js';

// Tenant filters, hostile ones included: they may accept anything they like.
const TENANT = ['', 'vlan or not vlan', 'vlan and vlan', 'ip or ip6 or arp or len >= 0', 'not host 192.0.2.1', 'ether[12:2] != 0 or ip[0] = 0x45', 'ip6 or (tcp and not tcp)', 'tcp[tcpflags] & tcp-syn != 0 or udp port 53'];
const JAILS = [
  { addrs: ['192.0.2.1', '2001:db8::1'], multicast: true, broadcast: true },
  { addrs: ['192.0.2.1'], multicast: false, broadcast: false },
  { addrs: ['2001:db8::1'], multicast: true, broadcast: false },
];

describe('confinement fuzz', () => {
  it('never accepts a packet outside the jail, over ≥ 1M packets', (t) => {
    const r = rng(0x5eed);
    let packets = 0;
    let accepted = 0;
    // Per link type: [packets, accepted]. Rounds go round-robin over the link types, 20k packets each.
    const per = new Map<number, [number, number]>();
    for (let round = 0; packets < 1_050_000; round++) {
      const linktype = LINKTYPES[round % LINKTYPES.length] ?? 1;
      // Each link type's successive rounds take the next jail (round % 3 would pin one jail to each).
      const jail = JAILS[Math.floor(round / LINKTYPES.length) % JAILS.length] ?? { addrs: ['192.0.2.1'], multicast: true, broadcast: true };
      const expr = TENANT[round % TENANT.length] ?? '';
      let user: Program;
      try {
        user = expr === '' ? [{ code: 6, jt: 0, jf: 0, k: 262144 }] : compileFilter(expr, { linktype, resolveNames: false });
      } catch {
        continue; // e.g. `vlan` on RAW: the tenant's filter does not compile there
      }
      const fn = jit(confine(user, { ...jail, linktype }));
      const ref = jailOf(jail.addrs, jail.multicast, jail.broadcast);
      const count = per.get(linktype) ?? [0, 0];
      per.set(linktype, count);
      for (let i = 0; i < 20_000; i++) {
        const p = makePacket(r, linktype);
        packets++;
        count[0]++;
        if (fn(p, p.length, p.length) !== 0) {
          accepted++;
          count[1]++;
          if (!allowed(p, linktype, ref)) assert.fail(`linktype ${String(linktype)}, '${expr}', ${JSON.stringify(jail)}: accepted ${Buffer.from(p).toString('hex')}`);
        }
      }
    }
    assert.ok(accepted > packets / 20, `the packets must also exercise accepting paths (${String(accepted)}/${String(packets)})`);
    t.diagnostic(`packets/accepted per link type: ${[...per].map(([l, [n, a]]) => `${String(l)}:${String(n)}/${String(a)}`).join(' ')}`);
    for (const linktype of LINKTYPES) {
      const [n = 0, a = 0] = per.get(linktype) ?? [];
      assert.ok(n >= 40_000 && a > n / 50, `link type ${String(linktype)}: ${String(a)} accepted of ${String(n)}`);
    }
  });
});
