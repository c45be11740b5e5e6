import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Coalesced } from '../../src/portal/coalesced.js';

/** A task whose runs the test ends by hand; each run reports the version of the state it started with. */
function manual(): { c: Coalesced<number>; starts: number[]; finish: () => void; state: { v: number } } {
  const state = { v: 0 };
  const starts: number[] = [];
  const pending: (() => void)[] = [];
  const c = new Coalesced(() => {
    const seen = state.v;
    starts.push(seen);
    return new Promise<number>((resolve) => pending.push(() => { resolve(seen); }));
  });
  return { c, starts, state, finish: () => pending.shift()?.() };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

test('a caller gets a run that started after its call; callers during a run share the next one', async () => {
  const { c, starts, finish, state } = manual();
  state.v = 1;
  const a = c.run();
  state.v = 2;
  const b = c.run();
  state.v = 3;
  const d = c.run();
  assert.deepEqual(starts, [1], 'one run at a time');
  finish();
  assert.equal(await a, 1);
  await tick();
  assert.deepEqual(starts, [1, 3], 'b and d share the second run, which sees the state after both asked');
  finish();
  assert.equal(await b, 3);
  assert.equal(await d, 3);
});

test('callers arriving one per run are answered in order, by runs that started after them', async () => {
  const { c, starts, finish, state } = manual();
  const done: number[] = [];
  for (let i = 1; i <= 5; i++) {
    state.v = i;
    void c.run().then(() => done.push(i));
    finish();
    await tick();
  }
  finish();
  await tick();
  assert.deepEqual(done, [1, 2, 3, 4, 5]);
  assert.ok(starts.every((v, k) => k === 0 || v > (starts[k - 1] ?? 0)));
});

test('a failed run fails its callers only; the next call starts afresh', async () => {
  let n = 0;
  const c = new Coalesced(() => (++n === 1 ? Promise.reject(new Error('boom')) : Promise.resolve(n)));
  await assert.rejects(c.run(), /boom/);
  assert.equal(await c.run(), 2);
});
