import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '../../src/root/index.js';
import { runInRoot } from '../../src/root/run-command.js';
import { captureIo } from '../helpers/io.js';
import { haveCommand, isRoot, needs } from '../helpers/system.js';
import { buildElf, put } from './elf-builder.js';

/** A fresh directory under /var/tmp that an unprivileged user can traverse. */
function scratch(tag: string): string {
  const d = mkdtempSync(join('/var/tmp', `moat-root-${tag}-`));
  chmodSync(d, 0o755);
  return d;
}

async function moat(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo({ env });
  let code: number;
  try {
    code = await main(args, io);
  } catch (e) {
    const err = e as { exitCode?: number; message?: string };
    return { code: err.exitCode ?? 70, out: io.out(), err: `${io.err()}${err.message ?? ''}` };
  }
  return { code, out: io.out(), err: io.err() };
}

async function runIn(root: string, cmd: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo();
  const code = await runInRoot({ root, cmd }, io);
  return { code, out: io.out(), err: io.err() };
}

const canRun = (): Record<string, boolean> => ({ 'root (for chroot, ldconfig and the uid drop)': isRoot, 'bwrap or chroot': haveCommand('bwrap') || haveCommand('chroot') });

describe('moat root build: roots that run', () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const cases: [string, string[], string[], RegExp][] = [
    ['sh', ['/bin/sh'], ['/bin/sh', '-c', 'echo hello from $0'], /hello from \/bin\/sh/],
    // The node running the tests, wherever it is installed.
    ['node', [process.execPath], [process.execPath, '-e', 'console.log("node", process.version, process.getuid())'], /^node v\d+\.\d+\.\d+ 65534$/m],
    ['tcpdump', ['/usr/bin/tcpdump'], ['/usr/bin/tcpdump', '--version'], /libpcap version/],
    ['openssl', ['/usr/bin/openssl'], ['/usr/bin/openssl', 'sha256', '/etc/passwd'], /SHA2-256\(\/etc\/passwd\)= [0-9a-f]{64}/],
  ];
  for (const [name, bins, cmd, expect] of cases) {
    it(`a root for ${name} runs under moat root run`, async (t) => {
      if (!needs(t, { ...canRun(), [bins[0] ?? '']: existsSync(bins[0] ?? '') })) return;
      const root = scratch(name);
      dirs.push(root);
      const manifest = join(root, '..', `${root.split('/').pop() ?? ''}.manifest.json`);
      dirs.push(manifest);
      const b = await moat(['build', '--root', root, '--manifest', manifest, '--with', 'passwd=nobody', ...bins]);
      assert.equal(b.code, 0, b.err);
      assert.match(b.out, /files .* MB in .* s; ld.so.cache written/);
      assert.ok(existsSync(join(root, 'etc/ld.so.cache')));
      // Nothing but what the closure needs: no shell in the node root.
      if (name !== 'sh') assert.equal(existsSync(join(root, 'usr/bin/dash')), false);
      const r = await runIn(root, cmd);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, expect);
      const v = await moat(['verify', '--root', root, '--manifest', manifest]);
      assert.equal(v.code, 0, v.out + v.err);
    });
  }
});

describe('moat root build: ld.so.cache', () => {
  it('lists every library of the closure, though ldconfig runs while the large binaries are still being copied', async (t) => {
    if (!needs(t, { root: isRoot, ldconfig: existsSync('/usr/sbin/ldconfig') || existsSync('/sbin/ldconfig') })) return;
    const root = scratch('ldcache');
    try {
      const bins = ['/bin/sh', '/usr/bin/env', process.execPath, '/usr/bin/tcpdump', '/usr/bin/openssl'].filter((b) => existsSync(b));
      const b = await moat(['build', '--root', root, ...bins]);
      assert.equal(b.code, 0, b.err);
      assert.match(b.out, /ld.so.cache written/);
      const ldconfig = existsSync('/usr/sbin/ldconfig') ? '/usr/sbin/ldconfig' : '/sbin/ldconfig';
      const cache = spawnSync(ldconfig, ['-p', '-C', join(root, 'etc/ld.so.cache')], { encoding: 'utf8' });
      assert.equal(cache.status, 0, cache.stderr);
      const listed = new Set([...cache.stdout.matchAll(/^\s+(\S+) \(/gm)].map((m) => m[1]));
      const ldd = await moat(['ldd', ...bins]);
      assert.equal(ldd.code, 0, ldd.err);
      const libs = new Set([...ldd.out.matchAll(/^\t(lib\S+) => \//gm)].map((m) => m[1]));
      assert.ok(libs.size >= 10, ldd.out);
      for (const lib of libs) assert.ok(listed.has(lib), `${lib ?? ''} missing from the root's ld.so.cache:\n${cache.stdout}`);
      // ldconfig's aux-cache is gone, and no temporary file is left behind.
      assert.equal(existsSync(join(root, 'var')), false);
      const leftovers = spawnSync('find', [root, '-name', '.moat-tmp-*'], { encoding: 'utf8' });
      assert.equal(leftovers.stdout, '');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('moat root run', () => {
  it('runs with a clean environment, as the user asked for, with its own /proc', async (t) => {
    if (!needs(t, { ...canRun(), bwrap: haveCommand('bwrap') })) return;
    const root = scratch('run');
    try {
      assert.equal((await moat(['build', '--root', root, '--no-ldconfig', '/bin/sh'])).code, 0);
      const io = captureIo({ env: { SECRET: 'leak' } });
      const script = 'echo "FOO=$FOO SECRET=$SECRET"; while read -r k v rest; do [ "$k" = Uid: ] && echo "uid $v"; done < /proc/self/status; echo "pid $$"';
      const code = await runInRoot({ root, cmd: ['/bin/sh', '-c', script], user: '1234:4321', env: { FOO: 'bar' } }, io);
      assert.equal(code, 0, io.err());
      assert.match(io.out(), /^FOO=bar SECRET=$/m);
      assert.match(io.out(), /^uid 1234$/m);
      // A private PID namespace: the shell is one of the first processes in it.
      assert.match(io.out(), /^pid [1-9]$/m);
      const exit = await runInRoot({ root, cmd: ['/bin/sh', '-c', 'exit 7'] }, captureIo());
      assert.equal(exit, 7);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('moat root build: layout, setuid, hard links, manifest drift', () => {
  let sys = '';
  let root = '';
  before(() => {
    sys = scratch('sys');
    root = scratch('out');
    const ld = '/lib64/ld-linux-x86-64.so.2';
    put(sys, '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', buildElf({ soname: 'ld-linux-x86-64.so.2' }));
    mkdirSync(join(sys, 'usr/lib64'), { recursive: true });
    spawnSync('ln', ['-s', 'usr/lib', join(sys, 'lib')]);
    spawnSync('ln', ['-s', 'usr/lib64', join(sys, 'lib64')]);
    spawnSync('ln', ['-s', 'usr/bin', join(sys, 'bin')]);
    spawnSync('ln', ['-s', '/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', join(sys, 'usr/lib64/ld-linux-x86-64.so.2')]);
    put(sys, '/usr/lib/x86_64-linux-gnu/libc.so.6.real', buildElf({ soname: 'libc.so.6' }));
    spawnSync('ln', ['-s', 'libc.so.6.real', join(sys, 'usr/lib/x86_64-linux-gnu/libc.so.6')]);
    put(sys, '/usr/bin/suid', buildElf({ type: 2, interp: ld, needed: ['libc.so.6'] }), 0o4755);
    put(sys, '/data/a.txt', 'same\n', 0o644);
    put(sys, '/data/b.txt', 'same\n', 0o644);
  });
  after(() => {
    rmSync(sys, { recursive: true, force: true });
    rmSync(root, { recursive: true, force: true });
  });

  it('recreates symlink chains relative to the root, strips setuid, hard-links twins', async () => {
    const m = join(root, '..', `${root.split('/').pop() ?? ''}.json`);
    const b = await moat(['build', '--root', root, '--sysroot', sys, '--no-ldconfig', '--manifest', m, '/bin/suid', '--file', '/data/a.txt', '--file', '/data/b.txt']);
    assert.equal(b.code, 0, b.err);
    assert.match(b.err, /stripped setuid\/setgid from \/usr\/bin\/suid/);
    assert.equal(readlinkSync(join(root, 'bin')), 'usr/bin');
    assert.equal(readlinkSync(join(root, 'lib64')), 'usr/lib64');
    // The absolute link in the source became relative, so it cannot point out of the root.
    assert.equal(readlinkSync(join(root, 'usr/lib64/ld-linux-x86-64.so.2')), '../../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2');
    assert.equal(readlinkSync(join(root, 'usr/lib/x86_64-linux-gnu/libc.so.6')), 'libc.so.6.real');
    assert.equal(lstatSync(join(root, 'usr/bin/suid')).mode & 0o7777, 0o755);
    assert.equal(lstatSync(join(root, 'data/a.txt')).ino, lstatSync(join(root, 'data/b.txt')).ino);
    const manifest = JSON.parse(readFileSync(m, 'utf8')) as { entries: { path: string; sha256?: string; source?: string; mode: string }[] };
    const suid = manifest.entries.find((e) => e.path === '/usr/bin/suid');
    assert.ok(suid !== undefined);
    assert.equal(suid.mode, '0755');
    assert.equal(suid.source, `${sys}/bin/suid`);
    assert.match(suid.sha256 ?? '', /^[0-9a-f]{64}$/);

    // Drift: a changed file, a setuid bit, a world-writable directory, an extra file.
    assert.equal((await moat(['verify', '--root', root, '--manifest', m])).code, 0);
    writeFileSync(join(root, 'data/a.txt'), 'changed\n');
    chmodSync(join(root, 'usr/bin/suid'), 0o4755);
    mkdirSync(join(root, 'tmp'));
    chmodSync(join(root, 'tmp'), 0o777);
    symlinkSync('/etc/shadow', join(root, 'data/abs'));
    symlinkSync('../../../etc', join(root, 'data/up'));
    const v = await moat(['verify', '--root', root, '--manifest', m]);
    assert.equal(v.code, 1);
    // Without a manifest only the dangerous entries are reported.
    const bare = await moat(['verify', '--root', root, '--json']);
    assert.equal(bare.code, 1);
    assert.deepEqual((JSON.parse(bare.out) as { kind: string; path: string }[]).map((f) => `${f.kind} ${f.path}`).sort(), ['link-escape /data/abs', 'link-escape /data/up', 'setuid /usr/bin/suid', 'world-writable /tmp']);
    assert.match(v.out, /^changed: \/data\/a.txt/m);
    assert.match(v.out, /^setuid: \/usr\/bin\/suid/m);
    assert.match(v.out, /^mode: \/usr\/bin\/suid: mode 4755, not 0755/m);
    assert.match(v.out, /^world-writable: \/tmp/m);
    assert.match(v.out, /^extra: \/tmp/m);
    assert.match(v.out, /^link-escape: \/data\/abs: points outside the root when followed from the host: \/etc\/shadow$/m);
    assert.match(v.out, /^link-escape: \/data\/up:/m);
    rmSync(m, { force: true });
  });

  it('verify refuses a damaged manifest with the field that is wrong, and exit 65', async () => {
    const good = { format: 'moat-root-manifest/1', created: '2026-01-01T00:00:00Z', sysroot: '/', entries: [{ path: '/x', type: 'file', mode: '0644', size: 1, sha256: 'a'.repeat(64) }] };
    const cases: [unknown, RegExp][] = [
      ['{', /not JSON/],
      [[], /expected an object/],
      [{ ...good, format: 'v2' }, /format: expected 'moat-root-manifest\/1'/],
      [{ ...good, entries: [{ ...good.entries[0], mode: '644' }] }, /entries\.0\.mode: expected four octal digits/],
      [{ ...good, entries: [{ ...good.entries[0], sha256: 'XYZ' }] }, /entries\.0\.sha256/],
      [{ ...good, entries: [{ ...good.entries[0], size: -1 }] }, /entries\.0\.size/],
      [{ ...good, entries: [{ ...good.entries[0], type: 'fifo' }] }, /entries\.0\.type/],
      [{ ...good, entries: [{ ...good.entries[0], owner: 'root' }] }, /entries\.0\.owner: unknown field/],
    ];
    const m = join(root, '..', 'damaged-manifest.json');
    try {
      for (const [body, want] of cases) {
        writeFileSync(m, typeof body === 'string' ? body : JSON.stringify(body));
        const v = await moat(['verify', '--root', root, '--manifest', m]);
        assert.equal(v.code, 65, `${JSON.stringify(body)}: ${v.err}`);
        assert.match(v.err, want);
      }
    } finally {
      rmSync(m, { force: true });
    }
  });

  it('keeps setuid with --keep-setuid', async () => {
    const out = scratch('keep');
    try {
      const b = await moat(['build', '--root', out, '--sysroot', sys, '--no-ldconfig', '--keep-setuid', '/usr/bin/suid']);
      assert.equal(b.code, 0, b.err);
      assert.equal(lstatSync(join(out, 'usr/bin/suid')).mode & 0o7777, 0o4755);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('--with passwd, hosts, tzdata and certs', async (t) => {
    if (!needs(t, { tzdata: existsSync('/usr/share/zoneinfo/Etc/UTC'), 'ca-certificates': existsSync('/etc/ssl/certs/ca-certificates.crt') })) return;
    const out = scratch('with');
    try {
      const b = await moat(['build', '--root', out, '--no-ldconfig', '--with', 'passwd=nobody', '--with', 'hosts', '--with', 'tzdata', '--with', 'certs', '/bin/sh']);
      assert.equal(b.code, 0, b.err);
      assert.equal(readFileSync(join(out, 'etc/passwd'), 'utf8'), 'root:x:0:0:root:/:/nonexistent\nnobody:x:65534:65534:nobody:/nonexistent:/nonexistent\n');
      assert.match(readFileSync(join(out, 'etc/group'), 'utf8'), /^nogroup:x:65534:$/m);
      assert.match(readFileSync(join(out, 'etc/hosts'), 'utf8'), /^127\.0\.0\.1\tlocalhost$/m);
      assert.ok(existsSync(join(out, 'usr/share/zoneinfo/Europe/Berlin')));
      assert.ok(existsSync(join(out, 'etc/localtime')), 'etc/localtime resolves inside the root');
      assert.ok(readFileSync(join(out, 'etc/ssl/certs/ca-certificates.crt'), 'utf8').includes('BEGIN CERTIFICATE'));
      const bad = await moat(['build', '--root', out, '--with', 'passwd=ev:il', '/bin/sh']);
      assert.equal(bad.code, 64);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('warns about libraries found only by dlopen, and --trace adds them', async (t) => {
    if (!needs(t, { gcc: haveCommand('gcc'), strace: haveCommand('strace'), 'libz.so.1': existsSync('/usr/lib/x86_64-linux-gnu/libz.so.1') })) return;
    const work = scratch('trace');
    try {
      const src = join(work, 'dl.c');
      writeFileSync(src, '#include <dlfcn.h>\nint main(void){ return dlopen("libz.so.1", RTLD_NOW) ? 0 : 1; }\n');
      const cc = spawnSync('gcc', ['-o', join(work, 'dl'), src, '-ldl'], { encoding: 'utf8' });
      assert.equal(cc.status, 0, cc.stderr);
      const plain = await moat(['build', '--root', join(work, 'r1'), '--no-ldconfig', join(work, 'dl')]);
      assert.equal(plain.code, 0, plain.err);
      // It calls dlopen, but none of glibc's own loading functions: no glibc hints.
      assert.doesNotMatch(plain.err, /libgcc_s|NSS|gconv/);
      assert.equal(existsSync(join(work, 'r1/usr/lib/x86_64-linux-gnu/libz.so.1')), false);
      const traced = await moat(['build', '--root', join(work, 'r2'), '--no-ldconfig', '--trace', join(work, 'dl'), '--']);
      assert.equal(traced.code, 0, traced.err);
      assert.match(traced.err, /--trace: added \/.*libz\.so\.1/);
      assert.ok(existsSync(join(work, 'r2/usr/lib/x86_64-linux-gnu/libz.so.1')));
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
