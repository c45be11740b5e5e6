import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FileCache } from '../../src/finger/index.js';

const dir = mkdtempSync(join(tmpdir(), 'moat-finger-cache-'));
const me = process.getuid?.() ?? 0;
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('finger file cache', () => {
  it('serves a regular file owned by the given uid, then from the cache', () => {
    const p = join(dir, 'plan');
    writeFileSync(p, 'hello\n');
    const c = new FileCache({ maxFileSize: 100, utf8: false });
    assert.deepEqual(c.read(p, me), { ok: true, text: 'hello\r\n' });
    assert.deepEqual(c.read(p, me), { ok: true, text: 'hello\r\n' });
    assert.equal(c.misses, 1);
    assert.equal(c.hits, 1);
  });

  it('reads again when the file changes, even at the same size and mtime', () => {
    const p = join(dir, 'changing');
    writeFileSync(p, 'one\n');
    utimesSync(p, 1000, 1000);
    const c = new FileCache({ maxFileSize: 100, utf8: false });
    assert.deepEqual(c.read(p, me), { ok: true, text: 'one\r\n' });
    writeFileSync(p, 'two\n');
    // Same size, mtime forced back: ctime still moves, so the cache notices.
    utimesSync(p, 1000, 1000);
    assert.deepEqual(c.read(p, me), { ok: true, text: 'two\r\n' });
    // A file swapped in by rename is a new inode.
    writeFileSync(join(dir, 'other'), 'six\n');
    renameSync(join(dir, 'other'), p);
    assert.deepEqual(c.read(p, me), { ok: true, text: 'six\r\n' });
  });

  it('refuses a symlink, a FIFO, a wrong owner, an empty and an oversized file', () => {
    const c = new FileCache({ maxFileSize: 10, utf8: false });
    writeFileSync(join(dir, 'target'), 'x\n');
    symlinkSync(join(dir, 'target'), join(dir, 'link'));
    assert.deepEqual(c.read(join(dir, 'link'), undefined), { ok: false, why: 'symlink' });
    assert.deepEqual(c.read(join(dir, 'target'), me + 1), { ok: false, why: 'wrong-owner' });
    writeFileSync(join(dir, 'empty'), '');
    assert.deepEqual(c.read(join(dir, 'empty'), me), { ok: false, why: 'empty' });
    writeFileSync(join(dir, 'big'), 'x'.repeat(11));
    assert.deepEqual(c.read(join(dir, 'big'), me), { ok: false, why: 'too-large' });
    assert.deepEqual(c.read(join(dir, 'absent'), me), { ok: false, why: 'missing' });
    assert.deepEqual(c.read(dir, me), { ok: false, why: 'not-regular' });
    if (spawnSync('mkfifo', [join(dir, 'fifo')]).status === 0) {
      assert.deepEqual(c.read(join(dir, 'fifo'), me), { ok: false, why: 'not-regular' });
    }
  });

  it('keeps at most maxEntries', () => {
    const c = new FileCache({ maxFileSize: 100, utf8: false, maxEntries: 2 });
    for (const n of ['a', 'b', 'c']) {
      writeFileSync(join(dir, n), n);
      c.read(join(dir, n), me);
    }
    assert.equal(c.size, 2);
  });
});
