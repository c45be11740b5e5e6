// The connection caps under load, on a random loopback port (the finger
// client is not involved, so :79 is not needed).
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { DEFAULTS, startDaemon, type FingerDaemon } from '../../src/finger/index.js';
import { captureIo } from '../helpers/io.js';
import { makeHomes, portOf, rawQuery, sleep, type Homes } from './finger-fixture.js';

/** Open a connection and resolve once it is connected or refused. */
function hold(port: number): Promise<Socket> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.on('error', () => undefined);
    s.once('connect', () => {
      resolve(s);
    });
    s.once('close', () => {
      resolve(s);
    });
  });
}

describe('moat finger connection limits', () => {
  let homes: Homes | undefined;
  const daemons: FingerDaemon[] = [];
  before(() => {
    homes = makeHomes(false);
  });
  after(async () => {
    for (const d of daemons) await d.close(100);
    homes?.cleanup();
  });

  async function start(extra: Partial<typeof DEFAULTS>): Promise<FingerDaemon> {
    const d = await startDaemon({ ...DEFAULTS, listen: ['127.0.0.1:0'], homes: homes?.dir ?? '/nonexistent', allowRoot: true, ...extra }, captureIo());
    daemons.push(d);
    return d;
  }

  it('holds the global cap with 5,000 connections open at once, and serves again after', async () => {
    const cap = 200;
    const d = await start({ maxConnections: cap, maxPerIp: 1_000_000, rate: 1_000_000, burst: 1_000_000, readTimeout: 60 });
    const port = portOf(d);
    const held: Socket[] = [];
    let maxOpen = 0;
    // In batches, so the listen backlog is not what refuses them.
    for (let batch = 0; batch < 10; batch++) {
      held.push(...(await Promise.all(Array.from({ length: 500 }, () => hold(port)))));
      maxOpen = Math.max(maxOpen, d.stats().open);
    }
    await sleep(200);
    maxOpen = Math.max(maxOpen, d.stats().open);
    assert.equal(held.length, 5000);
    assert.ok(maxOpen <= cap, `open ${String(maxOpen)} > cap ${String(cap)}`);
    assert.equal(d.stats().open, cap);
    assert.ok(d.stats().refused >= 5000 - cap, `refused ${String(d.stats().refused)}`);
    // While the cap is full a new client gets nothing.
    const during = await rawQuery(port, 'alice\r\n', 3000);
    assert.equal(during.data, '');
    for (const s of held) s.destroy();
    for (let i = 0; i < 100 && d.stats().open > 0; i++) await sleep(20);
    assert.match((await rawQuery(port, 'alice\r\n')).data, /^Login: alice\r\n/);
  });

  it('caps connections per address and rate-limits them', async () => {
    const d = await start({ maxPerIp: 3, rate: 1, burst: 5, readTimeout: 30 });
    const port = portOf(d);
    const t0 = Date.now();
    const held = await Promise.all(Array.from({ length: 3 }, () => hold(port)));
    for (let i = 0; i < 100 && d.stats().open < 3; i++) await sleep(20);
    assert.equal((await rawQuery(port, 'alice\r\n', 3000)).data, '', 'a 4th connection from one address is refused');
    for (const s of held) s.destroy();
    for (let i = 0; i < 100 && d.stats().open > 0; i++) await sleep(20);
    // 3 held + 1 refused for the cap (no token spent) leave 2 of the burst of
    // 5, plus one per second since: then the bucket is empty.
    let admitted = 0;
    let refused = false;
    for (let i = 0; i < 10 && !refused; i++) {
      const r = await rawQuery(port, 'alice\r\n', 3000);
      if (r.data.startsWith('Login: alice')) admitted++;
      else refused = true;
    }
    assert.ok(refused, 'the bucket runs dry');
    assert.ok(admitted >= 2 && admitted <= 2 + Math.ceil((Date.now() - t0) / 1000), `admitted ${String(admitted)}`);
  });

  it('lists only users who opted in, with --list-users', async () => {
    const d = await start({ listUsers: true });
    const r = await rawQuery(portOf(d), '\r\n');
    assert.equal(r.data, 'Login: alice\r\n');
  });
});
