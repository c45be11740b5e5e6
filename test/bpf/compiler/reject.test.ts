// libpcap's reject table: on the link types we support, every expression is
// refused with a SourceSyntaxError (column and caret), and the message
// contains libpcap master's (`errstr`) — we report the match rate.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SourceSyntaxError } from '../../../src/core/index.js';
import { UnsupportedLinktypeError, compileFilter, linktypeByName } from '../../../src/bpf/compiler/index.js';
import { SUPPORTED_DLTS, tables } from './tables.js';

// Accepted on purpose, following libpcap 1.10.3 (the CI oracle): master
// refuses an LLC DSAP above 255 and protochain when built without it; the
// optimizer-only "rejects all packets" needs -O (we compile unoptimized).
const ACCEPTED_ON_PURPOSE = /LLC DSAP|protochain not supported|expression rejects all packets/;

describe('libpcap reject table', () => {
  it('rejects every expression for supported link types, with libpcap’s message', (t) => {
    let total = 0;
    let rejected = 0;
    let matched = 0;
    const wronglyAccepted: string[] = [];
    const categories = new Map<string, number>();
    for (const r of tables().reject) {
      if (r.expr === undefined || r.DLT === undefined || !SUPPORTED_DLTS.has(r.DLT)) continue;
      total++;
      try {
        compileFilter(r.expr, { linktype: linktypeByName(r.DLT) ?? -1 });
        if (!ACCEPTED_ON_PURPOSE.test(r.errstr)) wronglyAccepted.push(`${r.DLT} ${r.expr}`);
      } catch (e) {
        // A valid expression on a link type we do not compile for: refused as such, without a caret.
        if (e instanceof UnsupportedLinktypeError) continue;
        assert.ok(e instanceof SourceSyntaxError, `${r.expr}: ${String(e)}`);
        assert.ok(e.column >= 1 && e.format().includes('^'));
        rejected++;
        if (e.message.includes(r.errstr)) matched++;
        else {
          const k = r.errstr.replace(/'[^']*'/g, "'…'").replace(/\d+/g, 'N');
          categories.set(k, (categories.get(k) ?? 0) + 1);
        }
      }
    }
    t.diagnostic(`reject table (supported link types): ${String(rejected)} of ${String(total)} rejected, ${String(matched)} with libpcap's message (${((100 * matched) / total).toFixed(1)}%)`);
    t.diagnostic(`unmatched categories: ${[...categories].map(([k, n]) => `${k} ×${String(n)}`).join('; ')}`);
    assert.deepEqual(wronglyAccepted, []);
    assert.ok(matched / total >= 0.97, `match rate ${String(matched)}/${String(total)}`);
  });

  it('on every link type, reports libpcap’s message before refusing the link type', (t) => {
    let total = 0;
    let matched = 0;
    for (const r of tables().reject) {
      if (r.expr === undefined || r.DLT === undefined) continue;
      const dlt = linktypeByName(r.DLT);
      total++;
      if (dlt === undefined) continue;
      try {
        compileFilter(r.expr, { linktype: dlt });
      } catch (e) {
        // A valid expression on a link type we do not compile for: refused as such, without a caret.
        if (e instanceof UnsupportedLinktypeError) continue;
        assert.ok(e instanceof SourceSyntaxError, `${r.expr}: ${String(e)}`);
        if (e.message.includes(r.errstr)) matched++;
      }
    }
    t.diagnostic(`whole reject table: ${String(matched)} of ${String(total)} with libpcap's message (${((100 * matched) / total).toFixed(1)}%)`);
    assert.ok(matched / total >= 0.85);
  });

  it('refuses other link types with a clear error instead of guessing', () => {
    assert.throws(() => compileFilter('ip', { linktype: 147 }), (e: unknown) => e instanceof UnsupportedLinktypeError && e.message.includes('not supported'));
  });
});
