// glibc's dlopen()ed libraries are warned about only for programs that call
// the functions that load them. The symbol reader is checked against nm(1),
// and the libgcc_s warning against what glibc itself does in a root that
// lacks libgcc_s: pthread_cancel aborts there.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MoatError } from '../../src/core/index.js';
import { main } from '../../src/root/index.js';
import { runInRoot } from '../../src/root/run-command.js';
import { importedSymbolsOf, readImportedSymbols } from '../../src/root/elf-symbols.js';
import { captureIo } from '../helpers/io.js';
import { haveCommand, isRoot, needs } from '../helpers/system.js';

function scratch(tag: string): string {
  const d = mkdtempSync(join('/var/tmp', `moat-root-${tag}-`));
  chmodSync(d, 0o755);
  return d;
}

async function build(args: string[]): Promise<{ code: number; err: string }> {
  const io = captureIo();
  const code = await main(['build', '--no-ldconfig', ...args], io);
  return { code, err: io.err() };
}

const GLIBC_HINTS = /libgcc_s|NSS modules|gconv/;

describe('elf-symbols: the undefined dynamic symbols', () => {
  it('are the ones nm -D --undefined-only lists, for real programs and libraries', (t) => {
    if (!needs(t, { 'nm (binutils)': haveCommand('nm') })) return;
    const files = ['/bin/sh', '/usr/bin/ls', process.execPath, '/lib/x86_64-linux-gnu/libc.so.6', '/usr/sbin/rsyslogd'].filter((f) => existsSync(f)).map((f) => realpathSync(f));
    assert.ok(files.length >= 3);
    for (const f of files) {
      const nm = execFileSync('nm', ['-D', '--undefined-only', f], { encoding: 'utf8' })
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => (l.trim().split(/\s+/).pop() ?? '').replace(/@.*$/, ''));
      const mine = readImportedSymbols(f) ?? [];
      assert.deepEqual([...new Set(mine)].sort(), [...new Set(nm)].sort(), f);
    }
  });

  it('are unknown without section headers, and a broken .dynsym is a MoatError', () => {
    const img = readFileSync(realpathSync('/bin/sh'));
    assert.ok((importedSymbolsOf(img) ?? []).length > 0);
    // e_shnum = 0, as sstrip leaves it.
    const stripped = Buffer.from(img);
    stripped.writeUInt16LE(0, 60);
    assert.equal(importedSymbolsOf(stripped), undefined);
    // Section headers past the end of the file.
    const past = Buffer.from(img);
    past.writeBigUInt64LE(BigInt(img.length + 4096), 40);
    assert.throws(() => importedSymbolsOf(past, 'past'), (e: unknown) => e instanceof MoatError && e.code === 'MOAT_ROOT_BAD_ELF');
    // Truncated in the middle of its symbols.
    assert.throws(() => importedSymbolsOf(img.subarray(0, 4096), 'short'), (e: unknown) => e instanceof MoatError && e.code === 'MOAT_ROOT_BAD_ELF');
  });
});

describe('root build: glibc dlopen warnings follow the program imports', () => {
  it('/bin/sh hears only about NSS (dash calls getpwnam for ~user), not libgcc_s or gconv', async (t) => {
    if (!needs(t, { linux: process.platform === 'linux' })) return;
    const root = scratch('sh-hints');
    try {
      const b = await build(['--root', join(root, 'r'), '/bin/sh']);
      assert.equal(b.code, 0, b.err);
      assert.doesNotMatch(b.err, /libgcc_s|gconv/);
      assert.match(b.err, /warning: glibc loads NSS modules .*\(\/bin\/sh calls getpwnam\)/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('each warning comes with the call that needs it, and a program with none gets none', async (t) => {
    if (!needs(t, { gcc: haveCommand('gcc') })) return;
    const work = scratch('hints');
    try {
      const programs: Record<string, string> = {
        none: 'int main(void){ return 0; }',
        cancel: '#include <pthread.h>\nstatic void *f(void *a){ for(;;) pthread_testcancel(); return a; }\nint main(void){ pthread_t t; pthread_create(&t, 0, f, 0); pthread_cancel(t); pthread_join(t, 0); return 0; }',
        trace: '#include <execinfo.h>\nint main(void){ void *b[8]; return backtrace(b, 8) > 0 ? 0 : 1; }',
        lookup: '#include <pwd.h>\nint main(void){ return getpwuid(0) ? 0 : 1; }',
        iconv: '#include <iconv.h>\nint main(void){ return iconv_open("UTF-8", "LATIN1") == (iconv_t)-1; }',
      };
      const want: Record<string, RegExp | undefined> = {
        none: undefined,
        cancel: /glibc dlopens libgcc_s\.so\.1 .*calls pthread_cancel\)$/,
        trace: /glibc dlopens libgcc_s\.so\.1 .*calls backtrace\)$/,
        lookup: /glibc loads NSS modules .*calls getpwuid\)$/,
        iconv: /gconv modules .*calls iconv_open\)$/,
      };
      for (const [name, code] of Object.entries(programs)) {
        writeFileSync(join(work, `${name}.c`), code);
        const cc = spawnSync('gcc', ['-o', join(work, name), join(work, `${name}.c`), '-pthread'], { encoding: 'utf8' });
        assert.equal(cc.status, 0, cc.stderr);
        const b = await build(['--root', join(work, `r-${name}`), join(work, name)]);
        assert.equal(b.code, 0, b.err);
        const hints = b.err.split('\n').filter((l) => GLIBC_HINTS.test(l));
        const re = want[name];
        if (re === undefined) assert.deepEqual(hints, [], name);
        else {
          assert.equal(hints.length, 1, `${name}: ${b.err}`);
          assert.match(hints[0] ?? '', re);
        }
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('glibc agrees: in a root without libgcc_s pthread_cancel aborts, with it (--file) it works', async (t) => {
    if (!needs(t, { gcc: haveCommand('gcc'), root: isRoot, 'bwrap or chroot': haveCommand('bwrap') || haveCommand('chroot') })) return;
    const work = scratch('cancel');
    try {
      const src = join(work, 'cancel.c');
      writeFileSync(src, '#include <pthread.h>\n#include <unistd.h>\nstatic void *f(void *a){ for(;;) pause(); return a; }\nint main(void){ pthread_t t; pthread_create(&t, 0, f, 0); pthread_cancel(t); pthread_join(t, 0); return 0; }\n');
      const cc = spawnSync('gcc', ['-o', join(work, 'cancel'), src, '-pthread'], { encoding: 'utf8' });
      assert.equal(cc.status, 0, cc.stderr);
      const bare = await build(['--root', join(work, 'bare'), join(work, 'cancel')]);
      assert.match(bare.err, /libgcc_s/);
      const io = captureIo();
      assert.notEqual(await runInRoot({ root: join(work, 'bare'), cmd: [join(work, 'cancel')] }, io), 0);
      assert.match(io.err(), /libgcc_s\.so\.1 must be installed for pthread_cancel to work/);
      // The remedy the warning names.
      const gcc = spawnSync('gcc', ['-print-file-name=libgcc_s.so.1'], { encoding: 'utf8' }).stdout.trim();
      const lib = realpathSync(gcc);
      const fixed = await build(['--root', join(work, 'fixed'), '--file', lib, join(work, 'cancel')]);
      assert.equal(fixed.code, 0, fixed.err);
      assert.doesNotMatch(fixed.err, /libgcc_s/);
      const ok = captureIo();
      assert.equal(await runInRoot({ root: join(work, 'fixed'), cmd: [join(work, 'cancel')] }, ok), 0, ok.err());
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
