import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  EX_CANTCREAT,
  EX_NOINPUT,
  EX_NOPERM,
  EX_UNAVAILABLE,
  ERROR_CODES,
  MoatError,
  fileError,
  runCommand,
  systemError,
} from '../../src/core/index.js';
import { captureIo } from '../helpers/io.js';

async function thrown(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  assert.fail('expected a throw');
}

test('a path under a regular file is "cannot create", exit 73, with strerror text', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'moat-fserr-'));
  try {
    await writeFile(join(dir, 'plain'), 'x');
    const out = join(dir, 'plain', 'sub');
    const io = captureIo();
    const code = await runCommand('moat zz', () => mkdir(out, { recursive: true }).then(() => 0), io);
    assert.equal(code, EX_CANTCREAT);
    assert.equal(io.err(), `moat zz: cannot create ${out}: Not a directory (ENOTDIR)\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a missing input is "cannot read", exit 66, never an internal error', async () => {
  const io = captureIo();
  const code = await runCommand('moat zz', () => readFile('/nonexistent/moat-input').then(() => 0), io);
  assert.equal(code, EX_NOINPUT);
  assert.equal(io.err(), 'moat zz: cannot read /nonexistent/moat-input: No such file or directory (ENOENT)\n');
});

test('permission errors are exit 77 whichever the direction', () => {
  const e = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES', syscall: 'open', path: '/root/x' });
  const m = fileError(e, '/root/x', 'write');
  assert.equal(m.code, 'MOAT_FILE_PERM');
  assert.equal(m.exitCode, EX_NOPERM);
  assert.equal(m.message, 'cannot create /root/x: Permission denied (EACCES)');
  assert.equal(systemError(e)?.exitCode, EX_NOPERM);
});

test('a socket error without a path is a service that is unavailable', async () => {
  const e = await thrown(() => Promise.reject(Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE', syscall: 'listen' })));
  const m = systemError(e);
  assert.ok(m instanceof MoatError);
  assert.equal(m.exitCode, EX_UNAVAILABLE);
  assert.equal(m.message, 'listen: Address already in use (EADDRINUSE)');
});

test('what is not an errno error stays a bug for runCommand to report', () => {
  assert.equal(systemError(new TypeError('x')), undefined);
  assert.equal(systemError(Object.assign(new Error('x'), { code: 'ERR_INVALID_ARG_TYPE' })), undefined);
});

test('every code in the catalogue has a sysexits status, and a MoatError takes it from there', () => {
  for (const [code, status] of Object.entries(ERROR_CODES)) {
    assert.match(code, /^MOAT_[A-Z0-9_]+$/);
    assert.ok(status >= 64 && status <= 78, `${code}: ${String(status)}`);
  }
  assert.equal(new MoatError('MOAT_SPEC_READ', 'x').exitCode, EX_NOINPUT);
});
