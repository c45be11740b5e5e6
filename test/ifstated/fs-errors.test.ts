// A user's file-system mistake is reported with the path and strerror's
// words and a sysexits status, never as an internal error.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { EX_CANTCREAT, EX_NOINPUT, EX_NOPERM, runCommand } from '../../src/core/index.js';
import { main } from '../../src/ifstated/cli.js';
import { captureIo } from '../helpers/io.js';
import { isRoot, repoRoot } from '../helpers/system.js';

const dir = mkdtempSync(join(tmpdir(), 'moat-ifs-fs-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});
const plain = join(dir, 'plain-file');
writeFileSync(plain, 'not a directory\n');

async function ifstated(...argv: string[]): Promise<{ code: number; err: string }> {
  const io = captureIo();
  const code = await runCommand('moat ifstated', () => main(argv, io), io);
  return { code, err: io.err() };
}

test('multiwan -o into a path under a regular file: cannot create, 73', async () => {
  const r = await ifstated('multiwan', '-o', join(plain, 'out'), join(repoRoot, 'examples', 'ifstated', 'seed-multiwan.yaml'));
  assert.equal(r.code, EX_CANTCREAT);
  assert.equal(r.err, `moat ifstated: cannot create ${join(plain, 'out', 'ifstated.conf')}: Not a directory (ENOTDIR)\n`);
});

test('graph -o with a regular file for its directory: cannot create, 73, said plainly', async () => {
  const r = await ifstated('graph', '-f', join(repoRoot, 'examples', 'ifstated', 'ifstated.conf'), '-o', join(plain, 'g.dot'));
  assert.equal(r.code, EX_CANTCREAT);
  assert.match(r.err, new RegExp(`^moat ifstated: cannot create ${join(plain, 'g.dot')}: ${plain} is not a directory\\n$`, 'm'));
  assert.doesNotMatch(r.err, /internal error/);
});

test('a config that cannot be read: 66 when missing, 77 without permission', async (t) => {
  const missing = await ifstated('check', '-f', join(dir, 'nope.conf'));
  assert.equal(missing.code, EX_NOINPUT);
  assert.equal(missing.err, `moat ifstated: cannot read ${join(dir, 'nope.conf')}: No such file or directory (ENOENT)\n`);
  if (isRoot) {
    t.diagnostic('running as root, which reads any file: the permission case is not testable here');
    return;
  }
  const locked = join(dir, 'locked.conf');
  writeFileSync(locked, 'state a {\n run "x"\n}\n');
  chmodSync(locked, 0);
  const denied = await ifstated('-n', '-f', locked);
  assert.equal(denied.code, EX_NOPERM);
});
