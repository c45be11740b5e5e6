// The optimizer's passes keep their per-block state in tables indexed by
// block id, kept between compiles (optimize.ts): blocks must be numbered
// densely per graph, and nothing one compile leaves in the tables may change
// the program of another.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileFilterDetailed } from '../../../src/bpf/compiler/index.js';
import { generate } from '../../../src/bpf/compiler/codegen.js';
import { order } from '../../../src/bpf/compiler/opt-blocks.js';
import { parseFilter } from '../../../src/bpf/compiler/parser.js';
import { GENERIC } from '../oracle/expressions.js';
import { randomExpressions } from '../oracle/random-expressions.js';

const genOpts = { linktype: 1, snaplen: 262144, netmask: 0, names: null, littleEndianHost: true };

function ids(expr: string): number[] {
  const g = generate(expr, parseFilter(expr).node, genOpts);
  return order(g.root).map((b) => b.id);
}

/** The optimized program and provenance, or the error, as one string. */
function compiled(expr: string, linktype: number): string {
  try {
    const r = compileFilterDetailed(expr, { linktype, optimize: true });
    return JSON.stringify([r.program, r.clauses]);
  } catch (e) {
    return e instanceof Error ? `error: ${e.message}` : 'error';
  }
}

describe('optimizer state between compiles', () => {
  it('numbers the blocks of each graph from 0, each once', () => {
    const big = ids('tcp port 80 or udp port 53 or icmp or ip6 and tcp[13] & 2 != 0');
    const small = ids('ip');
    for (const list of [big, small]) {
      assert.equal(new Set(list).size, list.length);
      assert.equal(Math.min(...list), 0);
    }
    // The small graph's ids start again from 0, below the big one's.
    assert.ok(Math.max(...small) < Math.max(...big));
  });

  it('gives every expression the same program whatever was compiled before it', () => {
    const cases = [
      ...GENERIC.map((expr) => ({ expr, dlt: 1 })),
      ...randomExpressions(14, 400).map((r) => ({ expr: r.expr, dlt: r.dlt })),
    ];
    const first = cases.map((c) => compiled(c.expr, c.dlt));
    // Backwards, and each after a large graph: tables sized and filled by
    // other graphs, with ids those graphs also used.
    const large = Array.from({ length: 60 }, (_, i) => `host 10.0.${String(i)}.1`).join(' or ');
    for (let i = cases.length - 1; i >= 0; i--) {
      const c = cases[i];
      if (c === undefined) continue;
      if (i % 7 === 0) compiled(large, 1);
      assert.equal(compiled(c.expr, c.dlt), first[i], c.expr);
    }
  });
});
