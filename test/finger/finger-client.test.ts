// The real Debian finger client against moat finger on 127.0.0.1:79, then the
// attacks the issue lists, each followed by an ordinary query that must still
// be answered. The client cannot choose a port, so everything that needs :79
// lives in this one file and runs in order.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { DEFAULTS, startDaemon, type FingerDaemon } from '../../src/finger/index.js';
import { captureIo } from '../helpers/io.js';
import { haveCommand, isRoot, needs } from '../helpers/system.js';
import { makeHomes, rawQuery, type Homes } from './finger-fixture.js';

const run = promisify(execFile);
const canRun = isRoot && haveCommand('finger');

async function finger(...args: string[]): Promise<string> {
  const r = await run('finger', args, { timeout: 10000 });
  // The client passes the server's CRLF through when stdout is not a terminal.
  return r.stdout.replace(/\r\n/g, '\n');
}

describe('moat finger with the Debian finger client on 127.0.0.1:79', () => {
  let homes: Homes | undefined;
  let daemon: FingerDaemon | undefined;
  const io = captureIo();

  before(async () => {
    if (!canRun) return;
    homes = makeHomes(true);
    const conf = join(homes.dir, 'finger.conf');
    writeFileSync(join(homes.dir, 'motd'), 'Welcome to the test host.\n');
    writeFileSync(conf, `# test aliases\nally:alice\nmotd:${join(homes.dir, 'motd')}\n`);
    daemon = await startDaemon(
      { ...DEFAULTS, listen: ['127.0.0.1:79'], homes: homes.dir, aliases: conf, allowRoot: true, forwardAllow: ['127.0.0.1'], readTimeout: 1, writeTimeout: 5, maxPerIp: 1000, rate: 100000, burst: 100000 },
      io,
    );
  });

  after(async () => {
    await daemon?.close(100);
    homes?.cleanup();
  });

  it('shows a user with all three files; -l adds the public key', async (t) => {
    if (!needs(t, { root: isRoot, 'finger client': haveCommand('finger') })) return;
    const short = await finger('alice@127.0.0.1');
    assert.match(short, /^Login: alice\s*$/m);
    assert.match(short, /^Project: moat$/m);
    assert.match(short, /^Plan:\nBuild the moat first\.\nThen the castle\.$/m);
    assert.doesNotMatch(short, /Public key/);
    const long = await finger('-l', 'alice@127.0.0.1');
    assert.match(long, /^Plan:\nBuild the moat first\./m);
    assert.match(long, /^Public key: ssh-ed25519 AAAATESTKEY alice@test$/m);
  });

  it('says no such user for an unknown user and for one with .nofinger, alike', async (t) => {
    if (!needs(t, { root: isRoot, 'finger client': haveCommand('finger') })) return;
    assert.match(await finger('nosuch@127.0.0.1'), /^finger: nosuch: no such user\.$/m);
    const carol = await finger('carol@127.0.0.1');
    assert.match(carol, /^finger: carol: no such user\.$/m);
    assert.doesNotMatch(carol, /secret/);
  });

  it('refuses user listing and forwarding by default, with the RFC 1288 lines', async (t) => {
    if (!needs(t, { root: isRoot, 'finger client': haveCommand('finger') })) return;
    assert.match(await finger('@127.0.0.1'), /^Finger online user list denied\.$/m);
    assert.match(await finger('-l', '@127.0.0.1'), /^Finger online user list denied\.$/m);
    // Not on the allow-list: refused without any connection out.
    assert.match(await finger('alice@192.0.2.1@127.0.0.1'), /^Finger forwarding service denied\.$/m);
    // Two hops: refused even though 127.0.0.1 is allowed.
    assert.match(await finger('alice@127.0.0.1@127.0.0.1@127.0.0.1'), /^Finger forwarding service denied\.$/m);
  });

  it('forwards one hop to an allowed host', async (t) => {
    if (!needs(t, { root: isRoot, 'finger client': haveCommand('finger') })) return;
    const out = await finger('alice@127.0.0.1@127.0.0.1');
    assert.match(out, /^\[127\.0\.0\.1\]$/m);
    assert.match(out, /^Login: alice/m);
  });

  it('answers an alias to a user and an alias to a file', async (t) => {
    if (!needs(t, { root: isRoot, 'finger client': haveCommand('finger') })) return;
    assert.match(await finger('ALLY@127.0.0.1'), /^Login: alice[\s\S]*Build the moat first/m);
    assert.equal((await finger('motd@127.0.0.1')).trim(), 'Welcome to the test host.');
  });

  it('neutralises control bytes in a .plan', async (t) => {
    if (!needs(t, { root: isRoot })) return;
    const r = await rawQuery(79, 'bob\r\n');
    assert.equal(r.data, 'Login: bob\r\nPlan: Esc:^[[2J bell:^G tab:\t csi:?? end\r\n');
  });

  describe('attacks, each refused with the server answering afterwards', () => {
    async function stillServes(): Promise<void> {
      const r = await rawQuery(79, 'alice\r\n');
      assert.match(r.data, /^Login: alice\r\n/);
    }

    it('.plan as a symlink to /etc/shadow', async (t) => {
      if (!needs(t, { root: isRoot })) return;
      const r = await rawQuery(79, 'mallory\r\n');
      assert.equal(r.data, 'Login: mallory\r\nProject: mallory project\r\nNo Plan.\r\n');
      assert.match(io.err(), /file refused peer=127\.0\.0\.1 file=\.plan why=symlink/);
      await stillServes();
    });

    it('.plan owned by another uid', async (t) => {
      if (!needs(t, { root: isRoot })) return;
      const r = await rawQuery(79, 'eve\r\n');
      assert.equal(r.data, 'Login: eve\r\nNo Plan.\r\n');
      assert.match(io.err(), /file=\.plan why=wrong-owner/);
      await stillServes();
    });

    it('a home that is a symlink', async (t) => {
      if (!needs(t, { root: isRoot })) return;
      assert.equal((await rawQuery(79, 'trudy\r\n')).data, 'finger: trudy: no such user.\r\n');
      assert.equal((await rawQuery(79, 'etc\r\n')).data, 'finger: etc: no such user.\r\n');
      assert.equal((await rawQuery(79, '../../etc\r\n')).data, 'finger: invalid query.\r\n');
      await stillServes();
    });

    it('a request line of 1 MB', async (t) => {
      if (!needs(t, { root: isRoot })) return;
      const r = await rawQuery(79, `${'a'.repeat(1024 * 1024)}\r\n`);
      assert.equal(r.closed, true);
      assert.equal(r.data, 'finger: request too long.\r\n');
      await stillServes();
    });

    it('a request with no newline times out', async (t) => {
      if (!needs(t, { root: isRoot })) return;
      const r = await rawQuery(79, 'alice', 8000);
      assert.equal(r.closed, true, 'the server must close the connection');
      assert.equal(r.data, '');
      await stillServes();
    });

    it('random bytes', async (t) => {
      if (!needs(t, { root: isRoot })) return;
      // A fixed pseudo-random sequence (xorshift), with NULs, controls and high bytes.
      let x = 2463534242;
      const bytes = Buffer.alloc(300, 0);
      for (let i = 0; i < bytes.length; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        bytes[i] = x & 0xff;
      }
      bytes[0] = 0x41;
      bytes[1] = 0;
      bytes[bytes.length - 1] = 0x0a;
      const r = await rawQuery(79, bytes, 8000);
      assert.equal(r.closed, true);
      assert.ok(r.data === '' || r.data === 'finger: invalid query.\r\n' || r.data === 'finger: request too long.\r\n', JSON.stringify(r.data));
      await stillServes();
    });

    it('a slowloris client trickling a valid query past the read deadline', async (t) => {
      if (!needs(t, { root: isRoot })) return;
      // Each byte arrives well inside an idle timeout, but the whole line
      // would take 2.8 s against a 1 s deadline for the request.
      const chunks = ['a', 'l', 'i', 'c', 'e', '\r', '\n'];
      const r = await rawQuery(79, { chunks, everyMs: 400 }, 8000);
      assert.equal(r.closed, true);
      assert.equal(r.data, '', 'no answer for a request that missed its deadline');
      await stillServes();
    });
  });
});
