// The optimizer's contract: same verdict and same return value as the
// unoptimized program, on every packet. Checked on libpcap's accept-table
// expressions with random packets for each link type, and its effect on
// size reported against the unoptimized program.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileFilter, linktypeByName } from '../../../src/bpf/compiler/index.js';
import { interpret } from '../../../src/bpf/runtime/index.js';
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
