// The daemon in-process on loopback ports: both address families, forwarding
// under its timeout, finger.conf reloading when it changes, names from passwd.
import assert from 'node:assert/strict';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULTS, startDaemon, type FingerDaemon, type FingerSettings } from '../../src/finger/index.js';
import { captureIo } from '../helpers/io.js';
import { makeHomes, portOf, rawQuery, sleep, type Homes } from './finger-fixture.js';

describe('moat finger daemon', () => {
  let homes: Homes | undefined;
  const daemons: FingerDaemon[] = [];
  before(() => {
    homes = makeHomes(false);
  });
  after(async () => {
    for (const d of daemons) await d.close(100);
    homes?.cleanup();
  });
  const start = async (extra: Partial<FingerSettings>, forwardPort?: number): Promise<FingerDaemon> => {
    const d = await startDaemon({ ...DEFAULTS, listen: ['127.0.0.1:0'], homes: homes?.dir ?? '/', allowRoot: true, ...extra }, captureIo(), forwardPort === undefined ? {} : { forwardPort });
    daemons.push(d);
    return d;
  };

  it('listens on IPv4 and IPv6 at once', async () => {
    const d = await start({ listen: ['127.0.0.1:0', '[::1]:0'] });
    assert.match(d.addresses[1] ?? '', /^\[::1\]:\d+$/);
    assert.match((await rawQuery(portOf(d, 0), 'alice\n')).data, /^Login: alice\r\n/);
    assert.match((await rawQuery(portOf(d, 1), 'alice\n', 5000, '::1')).data, /^Login: alice\r\n/);
  });

  it('gives up a forwarded query that gets no answer, within the forward timeout', async () => {
    // A "remote" finger server that accepts and never answers.
    const held: Socket[] = [];
    const silent = createServer((s) => held.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const addr = silent.address();
    const silentPort = typeof addr === 'object' && addr !== null ? addr.port : 0;
    try {
      const d = await start({ forwardAllow: ['127.0.0.1'], forwardTimeout: 1 }, silentPort);
      const r = await rawQuery(portOf(d), 'alice@127.0.0.1\r\n', 8000);
      assert.equal(r.data, 'finger: 127.0.0.1: timed out.\r\n');
    } finally {
      for (const s of held) s.destroy();
      silent.close();
    }
  });

  it('relays and sanitises a forwarded answer, cut at the size limit', async () => {
    const remote = createServer((s) => {
      s.on('error', () => undefined);
      s.once('data', (q: Buffer) => {
        s.end(`you asked ${q.toString('latin1').trim()}\x1b[31m\n${'x'.repeat(5000)}\n`);
      });
    });
    await new Promise<void>((r) => remote.listen(0, '127.0.0.1', r));
    const addr = remote.address();
    try {
      const d = await start({ forwardAllow: ['127.0.0.1'], maxFileSize: 100 }, typeof addr === 'object' && addr !== null ? addr.port : 0);
      const r = await rawQuery(portOf(d), '/W bob@127.0.0.1\r\n');
      assert.equal(r.data, `[127.0.0.1]\r\nyou asked /W bob^[[31m\r\n${'x'.repeat(100 - 22)}\r\n`);
    } finally {
      remote.close();
    }
  });

  it('reloads finger.conf when it changes, and keeps the old table after a bad edit', async () => {
    const conf = join(homes?.dir ?? '/', 'watched.conf');
    writeFileSync(conf, 'old:alice\n');
    const d = await start({ aliases: conf });
    const port = portOf(d);
    assert.match((await rawQuery(port, 'old\r\n')).data, /^Login: alice/);
    writeFileSync(conf, 'new:alice\n');
    let r = await rawQuery(port, 'new\r\n');
    // Polled every 2 s: wait for it.
    for (let i = 0; i < 60 && !r.data.startsWith('Login'); i++) {
      await sleep(100);
      r = await rawQuery(port, 'new\r\n');
    }
    assert.match(r.data, /^Login: alice/);
    writeFileSync(conf, 'broken line\n');
    d.reload();
    assert.match((await rawQuery(port, 'new\r\n')).data, /^Login: alice/, 'a bad edit keeps the previous aliases');
  });

  it('ends a connection past its read deadline, and one whose client will not read the answer past the write deadline', async () => {
    const big = join(homes?.dir ?? '/', 'big');
    mkdirSync(big);
    // Far more than loopback's socket buffers hold, so the write cannot finish while the client does not read.
    writeFileSync(join(big, '.plan'), `${'x'.repeat(1023)}\n`.repeat(16 * 1024 - 1));
    const d = await start({ readTimeout: 1, writeTimeout: 1, maxFileSize: 16 * 1024 * 1024 });
    const port = portOf(d);
    const t0 = Date.now();
    // Sends half a line and waits: the read deadline ends it.
    const slow = await rawQuery(port, 'ali', 5000);
    assert.equal(slow.closed, true);
    assert.equal(slow.data, '');
    assert.ok(Date.now() - t0 < 3000, `read deadline met ${String(Date.now() - t0)} ms late`);
    // Asks for the big answer and reads none of it: the write deadline ends it.
    const stalled = connect({ host: '127.0.0.1', port });
    stalled.pause();
    const closed = new Promise<number>((r) => stalled.once('close', () => { r(Date.now()); }));
    stalled.on('error', () => undefined);
    stalled.write('big\r\n');
    const t1 = Date.now();
    for (let i = 0; i < 100 && d.stats().timeouts < 2; i++) await sleep(50);
    assert.equal(d.stats().timeouts, 2);
    stalled.resume();
    assert.ok((await closed) - t1 < 4000);
    assert.match((await rawQuery(port, 'alice\r\n')).data, /^Login: alice\r\n/, 'still serves');
  });

  it('--min-uid (Go fingerd -passwd.min-uid) hides homes owned by lower uids', async () => {
    const owner = statSync(join(homes?.dir ?? '/', 'alice')).uid;
    const above = await start({ minUid: owner + 1 });
    assert.equal((await rawQuery(portOf(above), 'alice\r\n')).data, 'finger: alice: no such user.\r\n');
    const at = await start({ minUid: owner });
    assert.match((await rawQuery(portOf(at), 'alice\r\n')).data, /^Login: alice\r\n/);
  });

  it('shows the full name from --passwd only with --show-name', async () => {
    const pw = join(homes?.dir ?? '/', 'passwd');
    writeFileSync(pw, 'alice:*:1500:1500:Alice \x1b[2JLiddell,,,:/home/alice:/bin/sh\n');
    const hidden = await start({ passwd: pw });
    assert.match((await rawQuery(portOf(hidden), 'alice\r\n')).data, /^Login: alice\r\n/);
    const shown = await start({ passwd: pw, showName: true });
    assert.match((await rawQuery(portOf(shown), 'alice\r\n')).data, /^Login: alice {28}Name: Alice \^\[\[2JLiddell\r\n/);
  });

  it('serves a cached .plan from memory and notices an edit', async () => {
    const d = await start({ recheckMs: 0 });
    const port = portOf(d);
    await rawQuery(port, 'bob\r\n');
    const before = d.stats();
    await rawQuery(port, 'bob\r\n');
    assert.equal(d.stats().cacheMisses, before.cacheMisses);
    assert.ok(d.stats().cacheHits > before.cacheHits);
    writeFileSync(join(homes?.dir ?? '/', 'bob', '.plan'), 'edited\n');
    assert.equal((await rawQuery(port, 'bob\r\n')).data, 'Login: bob\r\nPlan: edited\r\n');
  });

  it('reuses a checked answer for --recheck-ms, and forgets it on reload', async () => {
    const d = await start({ recheckMs: 60000 });
    const port = portOf(d);
    const plan = join(homes?.dir ?? '/', 'alice', '.plan');
    writeFileSync(plan, 'first\n');
    assert.match((await rawQuery(port, 'alice\r\n')).data, /Plan: first\r\n/);
    writeFileSync(plan, 'second\n');
    assert.match((await rawQuery(port, 'alice\r\n')).data, /Plan: first\r\n/);
    d.reload();
    assert.match((await rawQuery(port, 'alice\r\n')).data, /Plan: second\r\n/);
  });
});
