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
const TENANT = ['', 'vlan or not vlan', 'vlan and vlan', 'ip or ip6 or arp or len >= 0', 'not host 192.0.2.1', 'ether[12:2] != 0 or ip[0] = 0x45', 'ip6 or (tcp and not tcp)'];
const JAILS = [
  { addrs: ['192.0.2.1', '2001:db8::1'], multicast: true, broadcast: true },
  { addrs: ['192.0.2.1'], multicast: false, broadcast: false },
  { addrs: ['2001:db8::1'], multicast: true, broadcast: false },
];

describe('confinement fuzz', () => {
  it('never accepts a packet outside the jail, over ≥ 1M packets', () => {
    const r = rng(0x5eed);
    let packets = 0;
    let accepted = 0;
    for (let round = 0; packets < 1_050_000; round++) {
      const linktype = LINKTYPES[round % LINKTYPES.length] ?? 1;
      const jail = JAILS[round % JAILS.length] ?? { addrs: ['192.0.2.1'], multicast: true, broadcast: true };
      const expr = TENANT[round % TENANT.length] ?? '';
      let user: Program;
      try {
        user = expr === '' ? [{ code: 6, jt: 0, jf: 0, k: 262144 }] : compileFilter(expr, { linktype, resolveNames: false });
      } catch {
        continue; // e.g. `vlan` on RAW: the tenant's filter does not compile there
      }
      const fn = jit(confine(user, { ...jail, linktype }));
      const ref = jailOf(jail.addrs, jail.multicast, jail.broadcast);
      for (let i = 0; i < 20_000; i++) {
        const p = makePacket(r, linktype);
        packets++;
        if (fn(p, p.length, p.length) !== 0) {
          accepted++;
          if (!allowed(p, linktype, ref)) assert.fail(`linktype ${String(linktype)}, '${expr}', ${JSON.stringify(jail)}: accepted ${Buffer.from(p).toString('hex')}`);
        }
      }
    }
    assert.ok(accepted > packets / 20, `the packets must also exercise accepting paths (${String(accepted)}/${String(packets)})`);
  });
});
