import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { machine, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildElfHints, parseElfHints, parseLibMap, libMapLookup } from '../../src/root/freebsd-rtld.js';
import { readLdSoConf } from '../../src/root/ld-so-conf.js';
import { hwcapsSubdirs } from '../../src/root/platform.js';
import { Resolver, type Closure } from '../../src/root/resolver.js';
import { Tree } from '../../src/root/tree.js';
import { main } from '../../src/root/index.js';
import { captureIo } from '../helpers/io.js';
import { needs } from '../helpers/system.js';
import { buildElf, put } from './elf-builder.js';

const LD = '/lib64/ld-linux-x86-64.so.2';

function libs(c: Closure): Record<string, string> {
  return Object.fromEntries(c.libs.map((l) => [l.request, l.path]));
}

describe('resolver on a Linux sysroot', () => {
  let sys = '';
  before(() => {
    sys = mkdtempSync(join(tmpdir(), 'moat-sysroot-'));
    // Merged /usr, as Debian 12 lays it out.
    for (const d of ['usr/bin', 'usr/lib/x86_64-linux-gnu', 'usr/lib64', 'etc/ld.so.conf.d']) mkdirSync(join(sys, d), { recursive: true });
    symlinkSync('usr/bin', join(sys, 'bin'));
    symlinkSync('usr/lib', join(sys, 'lib'));
    symlinkSync('usr/lib64', join(sys, 'lib64'));
    put(sys, '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', buildElf({ soname: 'ld-linux-x86-64.so.2' }));
    symlinkSync('/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', join(sys, 'usr/lib64/ld-linux-x86-64.so.2'));
    put(sys, '/usr/lib/x86_64-linux-gnu/libc.so.6', buildElf({ soname: 'libc.so.6', needed: ['ld-linux-x86-64.so.2'] }));
    writeFileSync(join(sys, 'etc/ld.so.conf'), '# test\ninclude /etc/ld.so.conf.d/*.conf\n');
    writeFileSync(join(sys, 'etc/ld.so.conf.d/b.conf'), '/opt/conf\n');
    writeFileSync(join(sys, 'etc/ld.so.conf.d/a.conf'), '/opt/first # comment\nhwcap 0 nosegneg\ninclude ../extra.conf\n');
    writeFileSync(join(sys, 'etc/extra.conf'), '/opt/extra\n');
    writeFileSync(join(sys, 'etc/ld.so.conf.d/skip.txt'), '/opt/never\n');
    put(sys, '/opt/conf/libconf.so.1', buildElf({ soname: 'libconf.so.1', needed: ['libc.so.6'] }));
    // RPATH inheritance: exe RPATH /opt/r; libA (in /opt/r) needs libB, which is only in /opt/r.
    put(sys, '/opt/r/libA.so.1', buildElf({ soname: 'libA.so.1', needed: ['libB.so.1'] }));
    put(sys, '/opt/r/libB.so.1', buildElf({ soname: 'libB.so.1', needed: ['libc.so.6'] }));
    put(sys, '/usr/bin/rpath', buildElf({ type: 2, interp: LD, needed: ['libA.so.1', 'libc.so.6', 'libconf.so.1'], rpath: '/opt/r' }));
    put(sys, '/usr/bin/runpath', buildElf({ type: 2, interp: LD, needed: ['libA.so.1', 'libc.so.6'], runpath: '/opt/r' }));
    // $ORIGIN and $LIB.
    put(sys, '/app/bin/tool', buildElf({ type: 3, interp: LD, needed: ['libapp.so', 'libmulti.so'], runpath: '$ORIGIN/../lib:/opt/$LIB' }));
    put(sys, '/app/lib/libapp.so', buildElf({ soname: 'libapp.so' }));
    put(sys, '/opt/lib/x86_64-linux-gnu/libmulti.so', buildElf({ soname: 'libmulti.so' }));
    put(sys, '/app/bin/plat', buildElf({ type: 3, interp: LD, needed: ['libplat.so', 'libbraced.so'], rpath: `/opt/plat/$PLATFORM:\${ORIGIN}/../braced` }));
    put(sys, `/opt/plat/${machine()}/libplat.so`, buildElf({ soname: 'libplat.so' }));
    put(sys, '/app/braced/libbraced.so', buildElf({ soname: 'libbraced.so' }));
    // A wrong-class library earlier on the path is skipped, as glibc's open_verify does.
    put(sys, '/opt/mixed32/libmix.so.1', buildElf({ bits: 32, machine: 3, soname: 'libmix.so.1' }));
    put(sys, '/opt/mixed64/libmix.so.1', buildElf({ soname: 'libmix.so.1' }));
    put(sys, '/usr/bin/mixed', buildElf({ type: 2, interp: LD, needed: ['libmix.so.1'], runpath: '/opt/mixed32:/opt/mixed64' }));
    // DF_1_NODEFLIB: no default directories.
    put(sys, '/usr/bin/nodeflib', buildElf({ type: 2, interp: LD, needed: ['libc.so.6'], flags1: 0x800 }));
    // hwcaps: the best supported level wins over the directory itself.
    put(sys, '/opt/hw/libhw.so.1', buildElf({ soname: 'libhw.so.1' }));
    const sub = hwcapsSubdirs({ os: 'linux', bits: 64, littleEndian: true, machine: 62 })[0];
    if (sub !== undefined) put(sys, `/opt/hw/${sub}/libhw.so.1`, buildElf({ soname: 'libhw.so.1' }));
    put(sys, '/usr/bin/hw', buildElf({ type: 2, interp: LD, needed: ['libhw.so.1'], runpath: '/opt/hw' }));
  });
  after(() => { rmSync(sys, { recursive: true, force: true }); });

  it('reads ld.so.conf with sorted glob includes and relative includes, skipping hwcap lines', () => {
    assert.deepEqual(readLdSoConf(new Tree(sys)), ['/opt/first', '/opt/extra', '/opt/conf']);
  });

  it('inherits DT_RPATH down the loader chain', () => {
    const c = new Resolver(new Tree(sys)).closure('/bin/rpath');
    assert.deepEqual(c.missing, []);
    assert.deepEqual(libs(c), { 'libA.so.1': '/opt/r/libA.so.1', 'libc.so.6': '/lib/x86_64-linux-gnu/libc.so.6', 'libconf.so.1': '/opt/conf/libconf.so.1', 'libB.so.1': '/opt/r/libB.so.1' });
    assert.equal(c.interp?.request, LD);
    assert.equal(c.interp.object?.real, '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2');
    // The chain /bin -> usr/bin is recorded for the layout.
    assert.deepEqual(c.main.hops, [{ link: '/bin', target: 'usr/bin' }]);
  });

  it('does not inherit DT_RUNPATH', () => {
    const c = new Resolver(new Tree(sys)).closure('/usr/bin/runpath');
    assert.deepEqual(c.missing.map((m) => m.name), ['libB.so.1']);
  });

  it('expands $ORIGIN and $LIB', () => {
    const c = new Resolver(new Tree(sys)).closure('/app/bin/tool');
    assert.deepEqual(libs(c), { 'libapp.so': '/app/lib/libapp.so', 'libmulti.so': '/opt/lib/x86_64-linux-gnu/libmulti.so' });
  });

  it('expands $PLATFORM and the braced ${ORIGIN}', (t) => {
    if (!needs(t, { 'an x86_64 host ($PLATFORM)': machine() === 'x86_64' })) return;
    const c = new Resolver(new Tree(sys)).closure('/app/bin/plat');
    assert.deepEqual(libs(c), { 'libplat.so': '/opt/plat/x86_64/libplat.so', 'libbraced.so': '/app/braced/libbraced.so' });
  });

  it('skips an incompatible class and keeps searching', () => {
    const c = new Resolver(new Tree(sys)).closure('/usr/bin/mixed');
    assert.equal(libs(c)['libmix.so.1'], '/opt/mixed64/libmix.so.1');
    assert.ok(c.skipped.some((s) => s.includes('ELF32')), c.skipped.join('\n'));
  });

  it('honours DF_1_NODEFLIB', () => {
    const c = new Resolver(new Tree(sys)).closure('/usr/bin/nodeflib');
    assert.deepEqual(c.missing.map((m) => m.name), ['libc.so.6']);
  });

  it('prefers the glibc-hwcaps subdirectory for this CPU', () => {
    const c = new Resolver(new Tree(sys)).closure('/usr/bin/hw');
    const sub = hwcapsSubdirs({ os: 'linux', bits: 64, littleEndian: true, machine: 62 })[0];
    assert.equal(libs(c)['libhw.so.1'], sub === undefined ? '/opt/hw/libhw.so.1' : `/opt/hw/${sub}/libhw.so.1`);
  });
});

describe('resolver on a FreeBSD sysroot (built on Linux)', () => {
  let sys = '';
  before(() => {
    sys = mkdtempSync(join(tmpdir(), 'moat-fbsd-'));
    const fb = { osabi: 9 };
    put(sys, '/libexec/ld-elf.so.1', buildElf({ ...fb, soname: 'ld-elf.so.1' }));
    put(sys, '/lib/libc.so.7', buildElf({ ...fb, soname: 'libc.so.7' }));
    put(sys, '/usr/lib/libz.so.6', buildElf({ ...fb, soname: 'libz.so.6', needed: ['libc.so.7'] }));
    put(sys, '/usr/local/lib/libbar.so.1', buildElf({ ...fb, soname: 'libbar.so.1', needed: ['libc.so.7'] }));
    put(sys, '/usr/local/lib/compat/libold.so.2', buildElf({ osabi: 0, note: 'FreeBSD', soname: 'libold.so.2' }));
    // A Linux library of the same name earlier on the path must not be taken.
    put(sys, '/usr/local/lib/linux/libc.so.7', buildElf({ osabi: 3, soname: 'libc.so.7' }));
    put(sys, '/var/run/ld-elf.so.hints', buildElfHints(['/usr/local/lib/linux', '/usr/local/lib', '/usr/local/lib/compat']), 0o644);
    put(sys, '/etc/libmap.conf', '# map\nlibfoo.so.1 libbar.so.1\n[/usr/local/bin/special]\nlibz.so.6 libold.so.2\n', 0o644);
    put(sys, '/usr/local/bin/fingerd', buildElf({ ...fb, type: 2, interp: '/libexec/ld-elf.so.1', needed: ['libfoo.so.1', 'libz.so.6', 'libc.so.7'] }));
    put(sys, '/usr/local/bin/special', buildElf({ ...fb, type: 2, interp: '/libexec/ld-elf.so.1', needed: ['libz.so.6'] }));
  });
  after(() => { rmSync(sys, { recursive: true, force: true }); });

  it('parses ld-elf.so.hints in both byte orders', () => {
    assert.deepEqual(parseElfHints(buildElfHints(['/a', '/b'], true)), ['/a', '/b']);
    assert.deepEqual(parseElfHints(buildElfHints(['/a', '/b'], false)), ['/a', '/b']);
    assert.equal(parseElfHints(Buffer.alloc(128)), undefined);
  });

  it('parses libmap.conf sections', () => {
    const m = parseLibMap('libc_r.so.7 libthr.so.3 # comment\n[/usr/bin/x]\nlibz.so.6 /opt/libz.so\n[dir/]\n');
    assert.equal(libMapLookup(m, '/usr/bin/y', 'libc_r.so.7'), 'libthr.so.3');
    assert.equal(libMapLookup(m, '/usr/bin/x', 'libz.so.6'), '/opt/libz.so');
    assert.equal(libMapLookup(m, '/usr/bin/y', 'libz.so.6'), undefined);
  });

  it('resolves through libmap, the hints and the standard path, checking the OS ABI', () => {
    const r = new Resolver(new Tree(sys));
    assert.equal(r.os, 'freebsd');
    const c = r.closure('/usr/local/bin/fingerd');
    assert.equal(c.target.os, 'freebsd');
    assert.deepEqual(c.missing, []);
    assert.deepEqual(libs(c), { 'libfoo.so.1': '/usr/local/lib/libbar.so.1', 'libz.so.6': '/usr/lib/libz.so.6', 'libc.so.7': '/lib/libc.so.7' });
    assert.equal(c.interp?.object?.real, '/libexec/ld-elf.so.1');
    assert.ok(c.skipped.some((s) => s.startsWith('/usr/local/lib/linux/libc.so.7')), c.skipped.join('\n'));
  });

  it('builds a FreeBSD root on Linux, with its ld-elf.so.hints', async () => {
    const root = mkdtempSync(join(tmpdir(), 'moat-fbsd-root-'));
    try {
      const io = captureIo();
      assert.equal(await main(['build', '--root', root, '--sysroot', sys, '/usr/local/bin/fingerd'], io), 0, io.err());
      for (const f of ['libexec/ld-elf.so.1', 'lib/libc.so.7', 'usr/lib/libz.so.6', 'usr/local/lib/libbar.so.1', 'usr/local/bin/fingerd']) assert.ok(existsSync(join(root, f)), f);
      assert.deepEqual(parseElfHints(readFileSync(join(root, 'var/run/ld-elf.so.hints'))), ['/usr/local/lib/linux', '/usr/local/lib', '/usr/local/lib/compat']);
      assert.equal(existsSync(join(root, 'etc/ld.so.cache')), false);
      const l = captureIo();
      assert.equal(await main(['ldd', '--sysroot', sys, '/usr/local/bin/fingerd'], l), 0);
      assert.equal(l.out(), '\tlibfoo.so.1 => /usr/local/lib/libbar.so.1 (0x0000000000000000)\n\tlibz.so.6 => /usr/lib/libz.so.6 (0x0000000000000000)\n\tlibc.so.7 => /lib/libc.so.7 (0x0000000000000000)\n\t/libexec/ld-elf.so.1 (0x0000000000000000)\n');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('applies a per-program libmap section', () => {
    const c = new Resolver(new Tree(sys)).closure('/usr/local/bin/special');
    assert.deepEqual(libs(c), { 'libz.so.6': '/usr/local/lib/compat/libold.so.2' });
  });
});
