import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MoatError } from '../../src/core/index.js';
import { NotElfError, parseElfBuffer, readElf } from '../../src/root/elf-reader.js';
import { buildElf } from './elf-builder.js';

describe('elf-reader', () => {
  for (const bits of [32, 64] as const) {
    for (const littleEndian of [true, false]) {
      it(`reads ELF${bits} ${littleEndian ? 'LSB' : 'MSB'} headers and the dynamic section`, () => {
        const img = buildElf({ bits, littleEndian, machine: littleEndian ? 62 : 21, interp: '/lib/ld.so.1', needed: ['liba.so.1', 'libb.so.2'], soname: 'libme.so.3', rpath: '$ORIGIN/../lib', flags1: 0x800 });
        const e = parseElfBuffer(img);
        assert.equal(e.bits, bits);
        assert.equal(e.littleEndian, littleEndian);
        assert.equal(e.machine, littleEndian ? 62 : 21);
        assert.equal(e.interp, '/lib/ld.so.1');
        assert.deepEqual(e.needed, ['liba.so.1', 'libb.so.2']);
        assert.equal(e.soname, 'libme.so.3');
        assert.equal(e.rpath, '$ORIGIN/../lib');
        assert.equal(e.runpath, undefined);
        assert.equal(e.flags1, 0x800);
        assert.equal(e.dynamic, true);
      });
    }
  }

  it('drops DT_RPATH when DT_RUNPATH is present, as glibc and FreeBSD rtld do', () => {
    const e = parseElfBuffer(buildElf({ rpath: '/r', runpath: '/rp' }));
    assert.equal(e.rpath, undefined);
    assert.equal(e.runpath, '/rp');
  });

  it('tells FreeBSD from Linux by EI_OSABI and by the ABI tag note', () => {
    assert.equal(parseElfBuffer(buildElf({ osabi: 9 })).os, 'freebsd');
    assert.equal(parseElfBuffer(buildElf({ osabi: 0, note: 'FreeBSD' })).os, 'freebsd');
    assert.equal(parseElfBuffer(buildElf({ osabi: 0, note: 'FreeBSD', littleEndian: false, machine: 21 })).os, 'freebsd');
    assert.equal(parseElfBuffer(buildElf({ osabi: 0, note: 'GNU' })).os, 'linux');
    assert.equal(parseElfBuffer(buildElf({ osabi: 3 })).os, 'linux');
    assert.equal(parseElfBuffer(buildElf({ osabi: 0 })).os, undefined);
  });

  it('reads a static executable as not dynamic', () => {
    const e = parseElfBuffer(buildElf({ static: true, type: 2 }));
    assert.equal(e.dynamic, false);
    assert.deepEqual(e.needed, []);
  });

  it('reads the real /bin/ls', () => {
    const e = readElf('/bin/ls');
    assert.equal(e.bits, 64);
    assert.ok(e.needed.includes('libc.so.6'), e.needed.join(','));
    assert.match(e.interp ?? '', /ld-linux/);
  });

  it('rejects files that are not ELF, and malformed ELF, with errors rather than crashes', () => {
    assert.throws(() => parseElfBuffer(Buffer.from('#!/bin/sh\necho hi\n')), NotElfError);
    assert.throws(() => parseElfBuffer(Buffer.alloc(0)), NotElfError);
    const good = buildElf({ needed: ['libc.so.6'] });
    // Every truncation of a valid image is an error with a code, never an exception from Buffer.
    for (let n = 16; n < good.length; n += 7) {
      try {
        parseElfBuffer(good.subarray(0, n));
      } catch (e) {
        assert.ok(e instanceof MoatError, `truncated to ${n}: ${String(e)}`);
      }
    }
    // Random corruption of every byte position: errors are MoatErrors.
    for (let i = 16; i < good.length; i++) {
      const bad = Buffer.from(good);
      bad[i] = (bad[i] ?? 0) ^ 0xff;
      try {
        parseElfBuffer(bad);
      } catch (e) {
        assert.ok(e instanceof MoatError, `byte ${i}: ${String(e)}`);
      }
    }
    const badClass = Buffer.from(good);
    badClass[4] = 7;
    assert.throws(() => parseElfBuffer(badClass), (e: unknown) => e instanceof MoatError && e.code === 'MOAT_ROOT_BAD_ELF');
  });

  it('does not hang on a FIFO and does not follow a symlink', () => {
    const dir = mkdtempSync(join(tmpdir(), 'moat-elf-'));
    try {
      mkfifoSyncCompat(join(dir, 'fifo'));
      assert.throws(() => readElf(join(dir, 'fifo')), NotElfError);
      writeFileSync(join(dir, 'x'), buildElf({}));
      symlinkSync('x', join(dir, 'link'));
      assert.throws(() => readElf(join(dir, 'link')), (e: unknown) => e instanceof MoatError && e.code === 'MOAT_ROOT_SYMLINK');
      assert.equal(readElf(join(dir, 'x')).bits, 64);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function mkfifoSyncCompat(path: string): void {
  // Node has no mkfifo; mkfifo(1) is in coreutils.
  const r = spawnSync('mkfifo', [path]);
  assert.equal(r.status, 0);
}
