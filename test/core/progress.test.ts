import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { Progress } from '../../src/core/index.js';

function stream(tty: boolean): { s: PassThrough & { isTTY?: boolean; columns?: number }; text: () => string } {
  const s = new PassThrough() as PassThrough & { isTTY?: boolean; columns?: number };
  if (tty) Object.assign(s, { isTTY: true, columns: 60 });
  let buf = '';
  s.on('data', (c: Buffer) => (buf += c.toString()));
  return { s, text: () => buf };
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('on a TTY the line is redrawn in place and cleared at the end', async () => {
  const { s, text } = stream(true);
  const p = new Progress({ stream: s, label: 'filter', total: 200, unit: 'packets', intervalMs: 10 });
  p.update(50, 2_000_000);
  await wait(60);
  p.update(100);
  await wait(60);
  p.finish();
  const out = text();
  assert.match(out, /\rfilter: 50\/200 packets, 25%, 2\.0 MB, \d+ packets\/s\x1b\[K/);
  assert.match(out, /\rfilter: 100\/200 packets, 50%/);
  assert.ok(out.endsWith('\r\x1b[K'), 'cleared at the end');
  assert.ok(!out.includes('\n'), 'never scrolls');
});

test('when stderr is not a TTY it prints nothing', async () => {
  const { s, text } = stream(false);
  const p = new Progress({ stream: s, label: 'x', intervalMs: 5 });
  assert.equal(p.active, false);
  p.update(10);
  await wait(30);
  p.finish();
  assert.equal(text(), '');
});

test('lines are cut to the terminal width', () => {
  const { s } = stream(true);
  const p = new Progress({ stream: s, label: 'a-very-long-label-'.repeat(10), intervalMs: 1000 });
  assert.ok(p.render().length <= 59);
  p.finish();
});

test('update() is cheap: a million updates do not draw a million times', async () => {
  const { s, text } = stream(true);
  const p = new Progress({ stream: s, label: 'n', intervalMs: 20 });
  for (let i = 0; i < 1_000_000; i++) p.update(i);
  await wait(50);
  p.finish();
  const draws = text().split('\r').length - 1;
  assert.ok(draws < 20, `drew ${String(draws)} times`);
});
