// Each optimizer pass on its own (src/bpf/compiler/optimize.ts PIPELINE):
// run alone on the code generator's graph, it keeps the unoptimized
// program's verdict on every random packet (truncated ones too), and the
// pipeline without it gives a different program for at least one
// expression (it does a job no other pass does). And the pipeline as a
// whole stops at a fixed point.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Program } from '../../../src/bpf/insn.js';
import { generate } from '../../../src/bpf/compiler/codegen.js';
import { linearize } from '../../../src/bpf/compiler/linearize.js';
import { order } from '../../../src/bpf/compiler/opt-blocks.js';
import { beyondLibpcap } from '../../../src/bpf/compiler/beyond-libpcap.js';
import { OptGraph, type Pass } from '../../../src/bpf/compiler/opt-graph.js';
import { PIPELINE, runPipeline } from '../../../src/bpf/compiler/optimize.js';
import { parseFilter } from '../../../src/bpf/compiler/parser.js';
import { interpret } from '../../../src/bpf/runtime/index.js';
import { GENERIC } from '../oracle/expressions.js';
import { randomPacket, rng } from './packets.js';

const EXPRS: readonly string[] = [
  ...GENERIC,
  'tcp port 80 or tcp port 443',
  'host 10.0.0.1 and tcp port 80',
  'ip[0] + 1 = 0x46',
  'ip and ip and ip',
  'icmp[icmptype] != icmp-echo and icmp[icmptype] != icmp-echoreply',
  'ether broadcast or ether multicast',
  'vlan 10 and tcp',
  // Folding leaves a decided block before the only way into the next (straight joins them).
  'not (vlan 3736 and ip6 net fe80::/10 and greater 1227)',
  'tcp src port 80 or not ip[6:2] & 0x1fff = 0 and ip[6:2] & 0x1fff != 0',
  // A decided test whose load the packet is known to be long enough for (idle): threading then goes past it.
  'ip[2:2] < 1406 or arp and (ether[0] & 0 = 1 or dst net 192.0.2.0/24)',
  // `tcp dst port 25` decides nothing; its dead `ldh [x + 16]` is covered by `tcp[13]` later (cover).
  'tcp[tcpflags] & (tcp-syn) != 0 and (tcp dst port 25 or src host fe80::1 and udp[0:2] != 22224) or tcp[tcpflags] & (tcp-push) != 0',
  // The second comparison's block leaves the registers as they came once the last fold drops its dead store (fold-last).
  'ip[2:2] - ((ip[0]&0xf)<<2) < 491 and ip[2:2] - ((ip[0]&0xf)<<2) < 182',
  // Where the type is 0x800 (IPv4), `stp`'s `jgt #0x5dc` on the same A rejects too (same-a).
  'not ip[2:2] >= 328 and stp',
];

function graphOf(expr: string): OptGraph | null {
  let gen;
  try {
    gen = generate(expr, parseFilter(expr).node, { linktype: 1, snaplen: 262144, netmask: 0, names: null, littleEndianHost: true });
  } catch {
    return null;
  }
  if (gen.noOptimize) return null;
  return new OptGraph(gen.root, order(gen.root));
}

function plainOf(expr: string): Program | null {
  const g = graphOf(expr);
  return g === null ? null : linearize(g.root).insns;
}

/** The program after running these passes once each, in order (null: the expression does not compile). */
function after(expr: string, passes: readonly Pass[]): Program | null {
  const g = graphOf(expr);
  if (g === null) return null;
  runPipeline(g, { first: passes, loop: [], last: [] });
  return linearize(g.root).insns;
}

/** The program after the whole pipeline without `pass`. */
function without(expr: string, pass: Pass | null): Program | null {
  const g = graphOf(expr);
  if (g === null) return null;
  const keep = (ps: readonly Pass[]): Pass[] => ps.filter((p) => p !== pass);
  runPipeline(g, { first: keep(PIPELINE.first), loop: keep(PIPELINE.loop), last: keep(PIPELINE.last) });
  return linearize(g.root).insns;
}

const ALL = [...new Set([...PIPELINE.first, ...PIPELINE.loop, ...PIPELINE.last])];

describe('optimizer passes, each alone', () => {
  for (const pass of ALL) {
    it(`${pass.name}: keeps every verdict, and changes some program`, () => {
      const r = rng(1461);
      let changed = 0;
      const bad: string[] = [];
      for (const expr of EXPRS) {
        const plain = plainOf(expr);
        const mine = after(expr, [pass]);
        if (plain === null || mine === null) continue;
        if (JSON.stringify(without(expr, null)) !== JSON.stringify(without(expr, pass))) changed++;
        // And within what libpcap's optimizer proves (the compiler's second try, index.ts), where
        // threading does not ask whether every way rejects: then the rejects pass is what folds those.
        beyondLibpcap(false);
        try {
          if (JSON.stringify(without(expr, null)) !== JSON.stringify(without(expr, pass))) changed++;
        } finally {
          beyondLibpcap(true);
        }
        for (let i = 0; i < 200; i++) {
          const p = randomPacket(r, 1);
          // Truncated copies too: a pass must not skip a load that could fall off.
          const q = i % 3 === 0 ? p.subarray(0, i % p.length) : p;
          if (interpret(plain, q, q.length) !== interpret(mine, q, q.length)) {
            bad.push(`${expr} on ${Buffer.from(q).toString('hex')}`);
            break;
          }
        }
      }
      assert.deepEqual(bad, []);
      assert.ok(changed > 0, `the pipeline without ${pass.name} gives the same programs`);
    });
  }

  it('skipping the quiet passes together (PIPELINE.quiet) changes no program', () => {
    let skipped = 0;
    for (const expr of [...EXPRS, 'tcp port 80', 'ip and (host 192.0.2.1 or multicast or broadcast) and (tcp port 80 or udp port 53)']) {
      const g = graphOf(expr);
      const h = graphOf(expr);
      if (g === null || h === null) continue;
      const quiet = PIPELINE.quiet;
      assert.ok(quiet !== undefined);
      const seen = { held: false };
      runPipeline(g, { ...PIPELINE, quiet: { passes: quiet.passes, holds: (blocks) => (seen.held = quiet.holds(blocks)) } });
      runPipeline(h, { first: PIPELINE.first, loop: PIPELINE.loop, last: PIPELINE.last });
      assert.equal(JSON.stringify(linearize(g.root).insns), JSON.stringify(linearize(h.root).insns), expr);
      if (seen.held) skipped++;
    }
    assert.ok(skipped > 0, 'the quiet passes were never skipped');
  });

  it('the loop stage ends at a fixed point: another round changes nothing', () => {
    for (const expr of EXPRS) {
      const g = graphOf(expr);
      if (g === null) continue;
      runPipeline(g, { first: PIPELINE.first, loop: PIPELINE.loop, last: [] });
      const before = JSON.stringify(linearize(g.root).insns);
      const again = new OptGraph(g.root, null);
      runPipeline(again, { first: [], loop: PIPELINE.loop, last: [] });
      assert.equal(JSON.stringify(linearize(again.root).insns), before, expr);
    }
  });
});
