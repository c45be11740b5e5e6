// --pidfile: written after bind and before the privilege drop, as Go fingerd
// does, and never through a link an unprivileged user could plant.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { EX_CANTCREAT, EX_OK, MoatError } from '../../src/core/index.js';
import { writePidfile } from '../../src/finger/index.js';
import { isRoot, needs } from '../helpers/system.js';
import { moatBin, rawQuery, sleep } from './finger-fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'moat-finger-pid-'));
chmodSync(dir, 0o755);
after(() => {
  rmSync(dir, { recursive: true, force: true });
});
const cantCreate = (e: unknown): boolean => e instanceof MoatError && e.exitCode === EX_CANTCREAT;

describe('moat finger --pidfile', () => {
  it('writes the pid, replacing a stale file, mode 0644', () => {
    const p = join(dir, 'stale.pid');
    writeFileSync(p, '99999999\n');
    writePidfile(p, 4242);
    assert.equal(readFileSync(p, 'utf8'), '4242\n');
    const fresh = join(dir, 'fresh.pid');
    writePidfile(fresh, 7);
    assert.equal(readFileSync(fresh, 'utf8'), '7\n');
    // 0644 asked; a umask can only take bits away, and never adds write for others.
    assert.equal(statSync(fresh).mode & 0o133, 0);
    assert.equal(statSync(fresh).mode & 0o600, 0o600);
  });

  it('refuses a planted symbolic link or hard link, and leaves the target alone', () => {
    const target = join(dir, 'precious');
    writeFileSync(target, 'keep me\n');
    symlinkSync(target, join(dir, 'sym.pid'));
    assert.throws(
      () => {
        writePidfile(join(dir, 'sym.pid'), 1);
      },
      (e: unknown) => cantCreate(e) && (e as Error).message.includes('symbolic link'),
    );
    linkSync(target, join(dir, 'hard.pid'));
    assert.throws(
      () => {
        writePidfile(join(dir, 'hard.pid'), 1);
      },
      (e: unknown) => cantCreate(e) && (e as Error).message.includes('one link'),
    );
    assert.equal(readFileSync(target, 'utf8'), 'keep me\n');
  });

  it('is written before the privilege drop: a root-owned pid directory works', async (t) => {
    if (!needs(t, { root: isRoot, '/proc': existsSync('/proc/self/status') })) return;
    const homes = join(dir, 'homes');
    mkdirSync(join(homes, 'alice'), { recursive: true, mode: 0o755 });
    writeFileSync(join(homes, 'alice', '.plan'), 'hi\n');
    // Only root may write here (mode 0755, owner root): nobody could not create the file.
    const run = join(dir, 'run');
    mkdirSync(run, { mode: 0o755 });
    const pidfile = join(run, 'fingerd.pid');
    const child = spawn(process.execPath, [moatBin, 'finger', '--listen', '127.0.0.1:0', '--homes', homes, '--run-as-user', '65534:65534', '--pidfile', pidfile], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      let port = 0;
      for (let i = 0; i < 200 && port === 0 && child.exitCode === null; i++) {
        port = Number(/ on=127\.0\.0\.1:(\d+)/.exec(err)?.[1] ?? 0);
        if (port === 0) await sleep(25);
      }
      assert.notEqual(port, 0, `did not start: ${err}`);
      assert.equal(readFileSync(pidfile, 'utf8'), `${String(child.pid)}\n`);
      assert.match((await rawQuery(port, 'alice\r\n')).data, /^Login: alice\r\n/);
      assert.match(readFileSync(`/proc/${String(child.pid)}/status`, 'utf8'), /^Uid:\t65534\t/m);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exit, EX_OK);
  });

  it('a pidfile that cannot be written stops the start with EX_CANTCREAT', async () => {
    const r = spawn(process.execPath, [moatBin, 'finger', '--listen', '127.0.0.1:0', '--homes', dir, '--allow-root', '--pidfile', join(dir, 'no', 'such', 'dir.pid')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    r.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const code = await new Promise<number | null>((resolve) => r.once('exit', resolve));
    assert.equal(code, EX_CANTCREAT);
    assert.match(err, /cannot write pidfile .*No such file or directory/);
  });
});
