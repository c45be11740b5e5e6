// Shapes the optimizer learned for program size (issue 14 §2), each with the
// length libpcap 1.10.3's -O gives (measured with the oracle), which ours
// now reaches: each case fails if the optimization it names is taken out.
// And each keeps the unoptimized program's verdict on random packets of its
// link type, truncated ones and other wire lengths too.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileFilter } from '../../../src/bpf/compiler/index.js';
import { interpret } from '../../../src/bpf/runtime/index.js';
import { randomPacket, rng } from './packets.js';

interface Shape {
  what: string;
  linktype: number;
  expr: string;
  /** Ours: libpcap 1.10.3 -O's length or less (libpcap's in `libpcap`, when it is longer). */
  length: number;
  libpcap?: number;
  /** A packet (hex) and wire length the optimized program once got wrong, checked before the random ones. */
  packet?: { hex: string; wire: number };
}

const SHAPES: readonly Shape[] = [
  {
    // SLIP: `[0] & 0xf0 == 0x60` held (ip6), so [0] is 0x60 to 0x6f and `slip[0] = 1` (`ldb [0]; jeq #0x1`) fails.
    what: 'a value with bits masked off that held a `jeq` bounds the value it was masked from',
    linktype: 8,
    expr: 'ip6 and (slip[0] = 1 or tcp)',
    length: 10,
    libpcap: 12,
  },
  {
    // The same on a longer SLIP filter, where ip and ip6 tests come before `outbound` (`[0]`, 0 or not).
    what: 'a masked value bounds its source, where ways join after it',
    linktype: 8,
    expr: '(not (ip6 host fe80::1 and ip6[6] != 6 or ip[2:2] > 770)) or (ip multicast or ip6 src host fe80::1) or (not (outbound or port 443 and dst net 192.168.0.0/16))',
    length: 29,
    libpcap: 59,
  },
  {
    // `arp` failed on one way into the block, `ip` (0x800) held on the others: not 0x806 on every way, so the last `arp` is decided.
    what: 'facts implied on every way into a block survive the join',
    linktype: 1,
    expr: '(tcp[13] & 0x12 != 0 or arp) or (ip6 multicast or ether[0] = 4) or arp',
    length: 17,
  },
  {
    // The second comparison recomputes the value A still holds; only after the last fold drops its dead store is the block seen to leave every register as it came.
    what: 'a block that leaves the registers as they came goes, also after the last fold',
    linktype: 1,
    expr: 'ip[2:2] - ((ip[0]&0xf)<<2) < 491 and ip[2:2] - ((ip[0]&0xf)<<2) < 182',
    length: 14,
  },
  {
    // `and #0x8; jeq #0x1`: A is 0 or 8, never 1; the test is decided, its loads kept.
    what: 'a test the bits A can have decide',
    linktype: 1,
    expr: 'tcp[tcpflags] & (tcp-push) == tcp-fin or pim',
    length: 12,
    libpcap: 19,
  },
  {
    what: 'a test the bits A can have decide, in the other operand of `or`',
    linktype: 1,
    expr: 'ip[0] & 0xf0 = 0x45 or udp',
    length: 12,
    libpcap: 15,
  },
  {
    // `jeq #0x84` (SCTP) held on one way into the port tests, `jeq #0x6` (TCP) on the other: the later `jeq #0x11` (UDP) fails.
    what: 'values known to be one of a few where ways join (IPv6 link type)',
    linktype: 229,
    expr: 'portrange 33434-33534 and greater 1069 or host ::1',
    length: 30,
    libpcap: 31,
  },
  {
    // On a BSD/OS PPP link IPv4 is one of three protocol numbers (0x21, 0x2d, 0x2f): after any of them, it is not IPv6 (0x57).
    what: 'values known to be one of a few where ways join (IPv4 as one of three PPP protocols)',
    linktype: 16,
    expr: 'tcp[tcpflags] & (tcp-rst) != 0',
    length: 13,
    libpcap: 20,
  },
  {
    // Not the optimizer's: the 802.11 link types are not optimized (a statement list with jumps), so arithmetic
    // whose operands need the same check (`ip` twice) makes it once, as libpcap does (gen-arith.ts mergeChecks).
    what: 'arithmetic checks a protocol once when both operands need it (radiotap/PPI, not optimized)',
    linktype: 192,
    expr: 'ip[2:2] - ((ip[0]&0xf)<<2) < 237',
    length: 67,
  },
  {
    // PPP: `not len < 1336` is `ld #pktlen; jge`, which cannot fail; on the paths where both its ways then
    // end at one block (the later tests decided the same either way), the edge goes past it.
    what: 'a test that can neither fail nor store is passed where both its ways end at one block',
    linktype: 9,
    expr: 'not ((mpls and not net 192.0.2.0/24 and ip6[6] = 58) or not len < 1336 and (ip6[6] = 58 or src net 10.0.0.0/8))',
    length: 30,
    libpcap: 31,
  },
  {
    // pflog: after the IPv6 UDP port-53 tests, `udp[10]` needs IPv4, so every way from them rejects; their loads
    // (which could only fail, and so reject too) go with them. Also the job the shape above had before this.
    // (42 before the peephole learned pflog's header length from its scratch word: `udp[10]` is `ldb [x + 10]`;
    // 39 before same-a.)
    what: 'a test is passed for the reject every way from it ends at, whatever its loads',
    linktype: 117,
    expr: '(udp port 53 and udp[10] & 0x80 = 0) or inbound and (not udp port 53 and udp[10] & 0x80 != 0)',
    length: 38,
    libpcap: 71,
  },
  {
    // SLIP: `not outbound` is `ldb [0]; jeq #0`, IPv6 is `ldb [0]; and #0xf0; jeq #0x60`: with [0] = 0 the
    // masked value is 0, so IPv6 never follows; the test on `[0] & 0xf0` is decided by the fact on [0].
    what: 'a test on a value computed with a constant from one the path has bound',
    linktype: 8,
    expr: 'not outbound and ip6 net 2001:db8:1::/48 or slip[0] = 1',
    length: 4,
    libpcap: 17,
  },
  {
    // pflog: the header length is a scratch word (`st M[0]` of `(ldb [0] + 3) & ~3`, at most 258), so
    // `ld #0xa; add x; tax; ldb [x + 0]` cannot wrap and becomes `ldb [x + 10]` (opt-peep.ts, the word's bound).
    what: 'the transport-offset peephole with the header length from a scratch word',
    linktype: 117,
    expr: 'udp port 53 and udp[10] & 0x80 = 0',
    length: 36,
    libpcap: 37,
  },
  {
    // pflog: `ld #6; ldx M[2]; add x; tax; ldh [x + 0]` is `ldx M[2]; ldh [x + 6]` (an `ldx` between `ld #c` and `add x`).
    what: 'the peephole past an ldx between the constant and the addition',
    linktype: 117,
    expr: 'ip[6:2] & 0x1fff != 0',
    length: 11,
    libpcap: 14,
  },
  {
    // pflog: what is left of `ip[2:2] - ((ip[0]&0xf)<<2)` once the test is decided is `ldh [x + 2]; ldb [x + 0]`,
    // loads nothing reads; `ldb [x + 9]` after them, from the same X, needs more bytes (opt-cover.ts, in one block).
    what: 'a dead indexed load a later one from the same base covers goes',
    linktype: 117,
    expr: 'ip[2:2] - ((ip[0]&0xf)<<2) > 350 and ip6[6] = 44 or icmp[icmptype] == icmp-timxceed',
    length: 20,
  },
  {
    // pflog: `tcp dst port 25` decides nothing there; its `ldh [x + 2]` (X the TCP header's offset) is covered by
    // `tcp[13]` blocks later, on every way that can accept, with X computed again; then the `tcp[13]` before it too.
    what: 'a dead load a later block covers on every way that can accept goes',
    linktype: 117,
    expr: 'tcp[tcpflags] & (tcp-syn) != 0 and (tcp dst port 25 or src host fe80::1 and udp[0:2] != 22224) or (tcp[tcpflags] & (tcp-push) != 0 or tcp[tcpflags] & (tcp-push) == tcp-ack)',
    length: 20,
  },
  {
    // pflog: `ldh [x + 6]` (ip[6:2]) is dead after a decided test; `ldb [x + 9]` (the protocol) follows on every way.
    what: 'a dead load after a decided test, covered by the next block',
    linktype: 117,
    expr: 'not ip[1] = 155 and (ip[6:2] & 0x1fff != 0 or not host fe80::1 and not ip6[6] = 17) and tcp[13] & 7 != 0',
    length: 22,
    libpcap: 26,
  },
  {
    // BSD/OS-less PPP: `ldh [2]; jeq #0x57` (IPv6) rejects, else `jeq #0x21` (IPv4) on the same A; where A is
    // 0x57 the second test rejects too, so the first decides nothing (opt-same-a.ts).
    what: 'a test whose one way, through tests of the same A, ends where its other way goes',
    linktype: 50,
    expr: 'ip6[6] = 44 and ip proto 47 or ppp[2:2] = 0x21',
    length: 4,
  },
  {
    // Ethernet: IPv4 (0x800) is not an 802.3 length (at most 0x5dc), so `stp` rejects where `ip` held,
    // and `ip[2:2] >= 328` decides nothing there.
    what: 'a test whose one way, through tests of the same A, ends where its other way goes (Ethernet)',
    linktype: 1,
    expr: 'not ip[2:2] >= 328 and stp',
    length: 6,
    libpcap: 10,
  },
  {
    // The redundant pass drops the second `ldxb`-like X computation (`ldb [14]; and #0xf; lsh #2; tax`) as X
    // holds it from the first; the last fold must then keep the first, though the block right after it
    // (`ld [30]`) does not read X: `sub x` two blocks on does (opt-live.ts). Once it was dropped: `sub x` read 0.
    what: 'the last fold keeps what a block two edges on reads',
    linktype: 1,
    expr: '(ip[2:2] - ((ip[0]&0xf)<<2) < 69 or ip and less 1249) and (dst net 172.16.0.0/12 or ip[2:2] - ((ip[0]&0xf)<<2) > 32)',
    length: 16,
    packet: {
      hex: '00010203040500112233445508001100000300400021f31d081d712700009732253fc0a80101ac11020303ff01bbedb19d799d6d7231f9381e3031d0591298075ca64632eacd7cb3bf2426',
      wire: 75,
    },
  },
  {
    // Decided by bits, nothing is left but `ret #0`; libpcap compiles it, so do we (without that folding).
    what: 'an expression only the bits show to reject every packet still compiles, as with libpcap',
    linktype: 1,
    expr: 'tcp[tcpflags] & (tcp-push) == tcp-ack',
    length: 12,
  },
  {
    // `(ip proto 1 or tcp) and ip proto 50`: on BSD/OS PPP one-of facts prove it rejects all; libpcap compiles it, so do we.
    what: 'an expression only one-of facts show to reject every packet still compiles, as with libpcap',
    linktype: 16,
    expr: 'ip proto 1 or tcp and ip proto 50',
    length: 20,
  },
];

describe('optimizer shapes', () => {
  for (const s of SHAPES) {
    it(`${s.what}: ${s.expr}`, () => {
      const plain = compileFilter(s.expr, { linktype: s.linktype, resolveNames: false });
      const opt = compileFilter(s.expr, { linktype: s.linktype, resolveNames: false, optimize: true });
      assert.equal(opt.length, s.length);
      if (s.packet !== undefined) {
        const q = Buffer.from(s.packet.hex, 'hex');
        assert.equal(interpret(opt, q, s.packet.wire), interpret(plain, q, s.packet.wire), `${s.expr} on the packet it once failed`);
      }
      const r = rng(s.length * 7919 + s.linktype);
      for (let i = 0; i < 3000; i++) {
        const p = randomPacket(r, s.linktype);
        const q = i % 3 === 0 ? p.subarray(0, Math.floor(r() * (p.length + 1))) : p;
        const wire = i % 5 === 0 ? q.length + Math.floor(r() * 1500) : q.length;
        assert.equal(interpret(opt, q, wire), interpret(plain, q, wire), `${s.expr} on ${Buffer.from(q).toString('hex')} (wire ${String(wire)})`);
      }
    });
  }
});
