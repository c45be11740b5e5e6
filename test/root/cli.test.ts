import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { UsageError } from '../../src/core/index.js';
import { main } from '../../src/root/index.js';
import { splitPair } from '../../src/root/build-command.js';
import { captureIo } from '../helpers/io.js';
import { buildElf, put } from './elf-builder.js';

describe('moat root command line', () => {
  for (const sub of [[], ['build'], ['ldd'], ['verify'], ['run'], ['sea']]) {
    it(`'moat root ${sub.join(' ')} --help' fits on one screen`, async () => {
      const io = captureIo();
      assert.equal(await main([...sub, '--help'], io), 0);
      const lines = io.out().trimEnd().split('\n');
      assert.ok(lines.length <= 24, `${lines.length} lines`);
      assert.match(lines[0] ?? '', /^usage: moat root/);
    });
  }

  it('rejects unknown options and subcommands with a usage error', async () => {
    await assert.rejects(main(['build', '--bogus'], captureIo()), (e: unknown) => e instanceof UsageError && e.exitCode === 64);
    await assert.rejects(main(['frobnicate'], captureIo()), UsageError);
    await assert.rejects(main(['build', '/bin/sh'], captureIo()), /--root DIR is required/);
    await assert.rejects(main(['run', '--root', '/nonexistent'], captureIo()), /name the command/);
    await assert.rejects(main(['ldd', '--os', 'plan9', '/bin/sh'], captureIo()), /--os is linux or freebsd/);
  });

  it('sea takes -o as the short name of --out, as every command that writes a file', async () => {
    // Recognised: it wants its argument, where an unknown option would be named.
    await assert.rejects(main(['sea', '-o'], captureIo()), (e: unknown) => e instanceof UsageError && e.message === "moat root sea: option '-o, --out <value>' needs an argument");
    const io = captureIo();
    assert.equal(await main(['sea', '--help'], io), 0);
    assert.match(io.out(), /^ {2}-o, --out FILE /m);
  });

  it('ldd reports a missing file with EX_NOINPUT and a static file as not dynamic', async () => {
    const io = captureIo();
    assert.equal(await main(['ldd', '/nonexistent/file'], io), 66);
    assert.match(io.err(), /no such file/);
    const dir = mkdtempSync(join(tmpdir(), 'moat-static-'));
    try {
      // A static executable (no PT_DYNAMIC) and a static PIE (PT_DYNAMIC, no PT_INTERP, no DT_NEEDED).
      put(dir, '/static', buildElf({ type: 2, static: true }));
      put(dir, '/static-pie', buildElf({ type: 3 }));
      const a = captureIo();
      assert.equal(await main(['ldd', '--sysroot', dir, '/static'], a), 1);
      assert.equal(a.out(), '\tnot a dynamic executable\n');
      const b = captureIo();
      assert.equal(await main(['ldd', '--sysroot', dir, '/static-pie'], b), 0);
      assert.equal(b.out(), '\tstatically linked\n');
      // A root for a static binary holds the binary alone: seed 001's OS-less jail.
      const root = join(dir, 'root');
      assert.equal(await main(['build', '--root', root, '--sysroot', dir, '/static-pie:/srv/finger/bin/fingerd'], captureIo()), 0);
      assert.deepEqual(readdirSync(root, { recursive: true }).sort(), ['srv', 'srv/finger', 'srv/finger/bin', 'srv/finger/bin/fingerd']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('splits SRC:DEST only when SRC exists and DEST is absolute', () => {
    const exists = (p: string): boolean => ['/a', '/odd:name', '/b:/c'].includes(p);
    assert.deepEqual(splitPair('/a:/x/y', exists), { src: '/a', dest: '/x/y' });
    assert.deepEqual(splitPair('/odd:name', exists), { src: '/odd:name' });
    assert.deepEqual(splitPair('/b:/c', exists), { src: '/b:/c' });
    assert.deepEqual(splitPair('/missing:/x', exists), { src: '/missing:/x' });
  });
});
