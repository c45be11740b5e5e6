// A developer's tool, not a test: `node dist/test/bpf/oracle/size-report.js [out.json]`
// measures program size against libpcap -O on the benchmark's two sets
// (2,400 random expressions of seed 14, the accept table), prints the
// summaries and writes every longer row, with both `-d` listings, to
// out.json for grouping by shape.
import { writeFileSync } from 'node:fs';
import { compileFilter } from '../../../src/bpf/compiler/index.js';
import { dumpProgram } from '../../../src/bpf/print/index.js';
import { oracleDump } from './oracle.js';
import { randomExpressions } from './random-expressions.js';
import { acceptSizeItems, measureSizes, sizeLine } from './sizes.js';

const out = process.argv[2] ?? '/tmp/bpf-sizes.json';
const random = measureSizes(randomExpressions(14, 2400));
const acc = measureSizes(acceptSizeItems());
process.stdout.write(sizeLine('random (seed 14, 2,400)', random.summary));
process.stdout.write(sizeLine('accept table', acc.summary));
const longer = [...random.rows.map((r) => ({ set: 'random', ...r })), ...acc.rows.map((r) => ({ set: 'accept', ...r }))]
  .filter((r) => r.ours > r.theirs)
  .map((r) => ({
    set: r.set,
    dlt: r.dlt,
    expr: r.expr,
    ours: r.ours,
    theirs: r.theirs,
    excused: r.excuse !== undefined,
    byTable: r.byTable === true,
    ...(r.excuse === undefined ? {} : { packet: Buffer.from(r.excuse.packet).toString('hex'), wirelen: r.excuse.wirelen }),
    oursD: dumpProgram(compileFilter(r.expr, { linktype: r.dlt, resolveNames: false, optimize: true }), 1),
    theirsD: oracleDump(r.dlt, r.expr, 1, { optimize: true }),
  }));
writeFileSync(out, JSON.stringify(longer, null, 1));
process.stdout.write(`${String(longer.length)} longer rows in ${out}\n`);
