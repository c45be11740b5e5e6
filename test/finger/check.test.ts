// `moat finger -n` runs the daemon's own start-up checks and fails where the
// daemon would: root without --allow-root, an unknown --run-as-user, homes
// the serving user cannot read.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { TOOLS } from '../../bin/tools.js';
import { EX_CONFIG, EX_NOPERM, EX_NOUSER, EX_OK, runCli } from '../../src/core/index.js';
import { captureIo } from '../helpers/io.js';
import { isRoot, needs } from '../helpers/system.js';
import { moatBin } from './finger-fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'moat-finger-check-'));
chmodSync(dir, 0o755);
after(() => {
  rmSync(dir, { recursive: true, force: true });
});
const open = join(dir, 'open');
mkdirSync(open, { mode: 0o755 });
const closed = join(dir, 'closed');
mkdirSync(closed, { mode: 0o700 });

const check = async (args: string[]) => {
  const io = captureIo({ cwd: dir });
  const code = await runCli(['finger', '-n', ...args], io, { version: '0', tools: TOOLS });
  return { code, out: io.out(), err: io.err() };
};

describe('moat finger -n', () => {
  it('refuses to serve as root without --allow-root or --run-as-user (EX_CONFIG)', async (t) => {
    if (!needs(t, { root: isRoot })) return;
    const r = await check(['--homes', open]);
    assert.equal(r.code, EX_CONFIG);
    assert.match(r.err, /refusing to serve as root/);
    assert.equal((await check(['--homes', open, '--allow-root'])).code, EX_OK);
  });

  it('refuses a --run-as-user that does not exist (EX_NOUSER)', async (t) => {
    if (!needs(t, { root: isRoot })) return;
    const r = await check(['--homes', open, '--run-as-user', `nosuchuser${String(process.pid)}`]);
    assert.equal(r.code, EX_NOUSER);
    assert.match(r.err, /no such user/);
  });

  it('refuses homes the serving user cannot read (EX_NOPERM), and passes readable ones', async (t) => {
    if (!needs(t, { root: isRoot })) return;
    const r = await check(['--homes', closed, '--run-as-user', '65534:65534']);
    assert.equal(r.code, EX_NOPERM);
    assert.match(r.err, /not readable by uid 65534/);
    // A readable directory under a parent nobody cannot enter is just as unreadable.
    const inner = join(closed, 'homes');
    mkdirSync(inner, { mode: 0o755 });
    assert.equal((await check(['--homes', inner, '--run-as-user', '65534:65534'])).code, EX_NOPERM);
    const ok = await check(['--homes', open, '--run-as-user', '65534:65534']);
    assert.equal(ok.code, EX_OK, ok.err);
    assert.match(ok.out, /^run as: uid 65534 gid 65534$/m);
  });

  it('refuses --run-as-user another user when not root (EX_NOPERM)', async () => {
    // As root, run the check itself as nobody, so this case runs everywhere.
    const child = spawn(process.execPath, [moatBin, 'finger', '-n', '--homes', open, '--run-as-user', '12345:12345'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      ...(isRoot ? { uid: 65534, gid: 65534 } : {}),
    });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, EX_NOPERM, err);
    assert.match(err, /needs root to switch to/);
  });
});
