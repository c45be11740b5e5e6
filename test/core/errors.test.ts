import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { errnoReason, MoatError } from '../../src/core/index.js';

/** The error a real system call throws, so the codes are the kernel's, not ours. */
function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  assert.fail('expected a throw');
}

test('errnoReason words a system error as strerror(3) does, with its errno name', () => {
  const dir = mkdtempSync(join(tmpdir(), 'moat-errno-'));
  try {
    assert.equal(errnoReason(thrown(() => readFileSync(join(dir, 'missing')))), 'No such file or directory (ENOENT)');
    assert.equal(errnoReason(thrown(() => readFileSync(dir))), 'Is a directory (EISDIR)');
    assert.equal(errnoReason(thrown(() => readFileSync(join(dir, 'missing', 'x')))), 'No such file or directory (ENOENT)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // A code without a table entry is shown as it is; anything else by its message.
  assert.equal(errnoReason(Object.assign(new Error('x'), { code: 'EWEIRD' })), 'EWEIRD');
  assert.equal(errnoReason(new MoatError('MOAT_SYSTEM', 'plain message')), 'MOAT_SYSTEM');
  assert.equal(errnoReason('a string'), 'a string');
});
