// `moat root build` into a path under a regular file, and `run`/`verify`
// with a root that is not there: the path, strerror's words and a sysexits
// status, never an internal error.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { EX_CANTCREAT, EX_NOINPUT, runCommand } from '../../src/core/index.js';
import { main } from '../../src/root/index.js';
import { captureIo } from '../helpers/io.js';

const dir = mkdtempSync(join(tmpdir(), 'moat-root-fs-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});
const plain = join(dir, 'plain-file');
writeFileSync(plain, 'not a directory\n');

async function root(...argv: string[]): Promise<{ code: number; err: string }> {
  const io = captureIo();
  const code = await runCommand('moat root', () => main(argv, io), io);
  return { code, err: io.err() };
}

test('build --root under a regular file: cannot create the root, 73', async () => {
  const r = await root('build', '--no-ldconfig', '--root', join(plain, 'r'), '/bin/sh');
  assert.equal(r.code, EX_CANTCREAT);
  assert.equal(r.err, `moat root: cannot create ${join(plain, 'r')}: Not a directory (ENOTDIR)\n`);
});

test('build --root naming a regular file: not a directory, 73', async () => {
  const r = await root('build', '--no-ldconfig', '--root', plain, '/bin/sh');
  assert.equal(r.code, EX_CANTCREAT);
  assert.match(r.err, /: not a directory/);
});

test('run and verify with a root that does not exist: no such root directory, 66', async () => {
  for (const cmd of [
    ['run', '--root', join(dir, 'nonexistent'), '--', '/bin/sh'],
    ['verify', '--root', join(dir, 'nonexistent')],
    ['run', '--root', join(plain, 'r'), '--', '/bin/sh'],
  ]) {
    const r = await root(...cmd);
    assert.equal(r.code, EX_NOINPUT, cmd.join(' '));
    assert.match(r.err, /^moat root: \/.*: no such root directory: (No such file or directory \(ENOENT\)|Not a directory \(ENOTDIR\))\n$/, cmd.join(' '));
  }
});
