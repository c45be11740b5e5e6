// The optimizer's contract: same verdict and same return value as the
// unoptimized program, on every packet. Checked on libpcap's accept-table
// expressions with random packets for each link type, and its effect on
// size reported against the unoptimized program.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileFilter, linktypeByName } from '../../../src/bpf/compiler/index.js';
import { interpret, jit } from '../../../src/bpf/runtime/index.js';
import { randomPacket, rng } from './packets.js';
import { SUPPORTED_DLTS, tables } from './tables.js';

describe('optimizer', () => {
  it('keeps every verdict of the unoptimized program (accept-table expressions, random packets)', (t) => {
    const r = rng(2026);
    let exprs = 0;
    let packets = 0;
    let before = 0;
    let after = 0;
    const bad: string[] = [];
    for (const b of tables().accept) {
      if (!SUPPORTED_DLTS.has(b.DLT)) continue;
      const linktype = linktypeByName(b.DLT) ?? -1;
      for (const expr of b.aliases) {
        let plain;
        let opt;
        try {
          plain = compileFilter(expr, { linktype });
          opt = compileFilter(expr, { linktype, optimize: true });
        } catch {
          continue;
        }
        exprs++;
        before += plain.length;
        after += opt.length;
        assert.ok(opt.length <= plain.length, `${expr}: optimized program is longer`);
        for (let i = 0; i < 150; i++) {
          const p = randomPacket(r, linktype);
          packets++;
          if (interpret(plain, p, p.length) !== interpret(opt, p, p.length)) {
            bad.push(`${b.DLT} ${expr} on ${Buffer.from(p).toString('hex')}`);
            break;
          }
        }
      }
    }
    t.diagnostic(`optimizer: ${String(exprs)} expressions, ${String(packets)} packets, ${String(before)} → ${String(after)} instructions`);
    assert.deepEqual(bad, []);
    assert.ok(exprs > 600);
  });

  it('folds the header offset into indexed loads and drops ldx that every path ran (same verdicts)', () => {
    // `tcp[k]` and friends compute X = 4*([14]&0xf) + c with `ld #c; add x; tax`;
    // the optimizer moves c into the loads, and skips an `ldxb` that X already
    // holds on every path. Some of these keep X live afterwards, where it must not.
    const exprs = [
      'tcp[13] & 2 != 0',
      'icmp[icmptype] == icmp-echo',
      'tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn',
      'udp[8:4] == 0x01020304 or tcp[13] & 7 != 0',
      'tcp portrange 1-1023',
      'udp[0] = 1 or udp[4] = 2 or tcp[8:4] = 3',
      'icmp[0] = 8 and icmp[1] = 0',
      'tcp[13] + tcp[12] = 7',
      'tcp[tcp[0] & 3] = 1',
      'ip[0] & 0xf = tcp[0] & 0xf',
      'vlan and tcp[13] = 2',
      'ip6 or tcp[0] = 1',
      'tcp[0:4] > 0x80000000 or udp[2:2] < 2000',
    ];
    const r = rng(77);
    let folded = 0;
    for (const expr of exprs) {
      const plain = compileFilter(expr, { linktype: 1 });
      const opt = compileFilter(expr, { linktype: 1, optimize: true });
      // No `add x; tax` pair survives where X is not read afterwards.
      if (!opt.some((ins, i) => ins.code === 0x0c && opt[i + 1]?.code === 0x07)) folded++;
      const fn = jit(opt);
      for (let i = 0; i < 3000; i++) {
        const p = randomPacket(r, 1);
        const want = interpret(plain, p, p.length);
        assert.equal(interpret(opt, p, p.length), want, `${expr} on ${Buffer.from(p).toString('hex')}`);
        assert.equal(fn(p, p.length, p.length), want, `${expr} (JIT) on ${Buffer.from(p).toString('hex')}`);
      }
    }
    assert.ok(folded >= 8, `the fold applied to ${String(folded)} expressions`);
    // One `ldxb` serves both ports of a portrange (libpcap's -O does the same).
    assert.equal(compileFilter('tcp portrange 1-1023', { linktype: 1, optimize: true }).filter((ins) => ins.code === 0xb1).length, 1);
    // `ldxb 4*([14]&0xf); ldb [x + 27]`: tcp[13] without the `ld #13; add x; tax`.
    const syn = compileFilter('tcp[13] & 2 != 0', { linktype: 1, optimize: true });
    assert.ok(syn.some((ins) => ins.code === 0x50 && ins.k === 27));
  });

  it('threads on the value a block tests even when the block also stores, and reuses X from scratch memory', () => {
    // On PFLOG the header length goes to M[2] in the block that also tests the
    // address family; the same test later is decided from that one, and X
    // loaded from M[2] is kept while M[2] is unchanged.
    const pflog = 117;
    const exprs = ['udp[0xab] == 0xcd', 'tcp[0] = 1 or udp[2] = 3', 'icmp6[0xab] = 0xcd', 'ip6 or tcp[13] = 2', 'ip and udp port 53', 'ip6 or ip[0] = 0x45'];
    const r = rng(117);
    for (const expr of exprs) {
      const plain = compileFilter(expr, { linktype: pflog });
      const opt = compileFilter(expr, { linktype: pflog, optimize: true });
      for (let i = 0; i < 3000; i++) {
        const p = randomPacket(r, pflog);
        assert.equal(interpret(opt, p, p.length), interpret(plain, p, p.length), `${expr} on ${Buffer.from(p).toString('hex')}`);
      }
    }
    const udp = compileFilter('udp[0xab] == 0xcd', { linktype: pflog, optimize: true });
    // One `ldb [1]` (the address family) and one `ldx M[2]` on the way to the accept.
    assert.equal(udp.filter((ins) => ins.code === 0x30 && ins.k === 1).length, 1);
    assert.equal(udp.filter((ins) => ins.code === 0x61 && ins.k === 2).length, 1);
  });

  it('keeps arithmetic comparisons exact where they hold (crafted IPv4/TCP lengths)', () => {
    // Random packets almost never make `a - b - c` exactly 0; these do half the
    // time, so a wrong rewrite of `sub x; jeq #0` (or of the stores around it) shows.
    const r = rng(1234);
    const int = (n: number): number => Math.floor(r() * n);
    const packet = (): Uint8Array => {
      const ihl = 5 + int(3);
      const doff = 5 + int(11);
      const p = new Uint8Array(14 + ihl * 4 + doff * 4 + int(8)).map(() => int(256));
      p.set([0x08, 0x00], 12);
      const total = r() < 0.5 ? ihl * 4 + doff * 4 : int(65536);
      p.set([0x40 | ihl, 0, total >> 8, total & 0xff, 0, 0, 0, 0, 64, 6], 14);
      p[14 + ihl * 4 + 12] = (doff << 4) | int(16);
      return r() < 0.1 ? p.subarray(0, int(p.length)) : p;
    };
    const exprs = [
      'ip[2:2] - ((ip[0]&0xf)<<2) - ((tcp[12]&0xf0)>>2) != 0',
      'ip[2:2] - ((ip[0]&0xf)<<2) - ((tcp[12]&0xf0)>>2) = 0',
      'ip[2:2] = ((ip[0]&0xf)<<2) + ((tcp[12]&0xf0)>>2)',
      'ip[2:2] - ((tcp[12]&0xf0)>>2) = (ip[0]&0xf)<<2',
      '(ip[0] & 0xf) - 5 = 0 and tcp[12] >> 4 > 5',
    ];
    for (const expr of exprs) {
      const plain = compileFilter(expr, { linktype: 1 });
      const opt = compileFilter(expr, { linktype: 1, optimize: true });
      const fn = jit(opt);
      let accepted = 0;
      for (let i = 0; i < 2000; i++) {
        const p = packet();
        const want = interpret(plain, p, p.length);
        if (want !== 0) accepted++;
        assert.equal(interpret(opt, p, p.length), want, `${expr} on ${Buffer.from(p).toString('hex')}`);
        assert.equal(fn(p, p.length, p.length), want, `${expr} (JIT) on ${Buffer.from(p).toString('hex')}`);
      }
      assert.ok(accepted > 200 && accepted < 1800, `${expr}: ${String(accepted)} of 2000 accepted`);
    }
  });

  it('folds constants and threads jumps on the classic cases', () => {
    const len = (e: string): number => compileFilter(e, { linktype: 1, optimize: true }).length;
    // ldb [0]; jset; two returns: the arithmetic on constants is gone.
    assert.equal(compileFilter('link[0:1] & 0xff == 0', { linktype: 12, optimize: true }).length, 4);
    // The repeated `ldh [12]` tests of the unoptimized code are threaded away.
    assert.ok(len('host 1.2.3.4') <= 14);
    assert.ok(len('tcp port 80 and host 10.1.2.3') <= 18);
    // Expressions that can never match are refused, as libpcap does.
    assert.throws(() => compileFilter('ip and not ip', { linktype: 1, optimize: true }), /rejects all packets/);
  });
});
