// A user's mistake with the file system is never an internal error: render
// into a path under a regular file, or from a spec that is not there, exits
// with the sysexits(3) status core maps it to, naming the path.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { EX_CANTCREAT, EX_NOINPUT, EX_OK, runCommand } from '../../src/core/index.js';
import { main } from '../../src/net/index.js';
import { captureIo } from '../helpers/io.js';
import { repoRoot } from '../helpers/system.js';

const spec = join(repoRoot, 'examples/net/seed-guests.yaml');

async function tempDir(t: TestContext): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), `moat-net-err-${String(process.pid)}-`));
  t.after(() => rm(d, { recursive: true, force: true }));
  return d;
}

test('render --out under a regular file: "cannot create", EX_CANTCREAT, not an internal error', async (t) => {
  const d = await tempDir(t);
  await writeFile(join(d, 'plain'), 'x');
  const out = join(d, 'plain', 'out');
  const io = captureIo();
  assert.equal(await runCommand('moat net', () => main(['render', spec, '--os', 'freebsd', '--out', out], io), io), EX_CANTCREAT);
  assert.doesNotMatch(io.err(), /internal error/);
  assert.match(io.err(), new RegExp(`^moat net: cannot create ${join(d, 'plain').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/\\S*: Not a directory \\(ENOTDIR\\)\\n$`));
});

test('render from a spec that is not there: EX_NOINPUT naming it', async (t) => {
  const d = await tempDir(t);
  const io = captureIo();
  const missing = join(d, 'nope.yaml');
  assert.equal(await runCommand('moat net', () => main(['render', missing, '--os', 'freebsd', '-o', join(d, 'o')], io), io), EX_NOINPUT);
  assert.match(io.err(), new RegExp(`cannot read ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: No such file or directory`));
  assert.equal(existsSync(join(d, 'o')), false);
});

test('render takes -o as --out, as every command that writes files does', async (t) => {
  const d = await tempDir(t);
  const io = captureIo();
  assert.equal(await main(['render', spec, '--os', 'freebsd', '-o', join(d, 'o')], io), EX_OK, io.err());
  assert.ok(existsSync(join(d, 'o/fbsd/etc/rc.conf.d/routing')));
});

test('dhcpv6-check of a capture that is not there: EX_NOINPUT with the path and strerror', async (t) => {
  const d = await tempDir(t);
  const missing = join(d, 'none.pcap');
  const io = captureIo();
  assert.equal(await runCommand('moat net', () => main(['dhcpv6-check', missing], io), io), EX_NOINPUT);
  assert.equal(io.err(), `moat net: cannot read ${missing}: No such file or directory (ENOENT)\n`);
});
