// The native addon: its C compiles clean under -Wall -Wextra -Werror with the
// system compiler, the build it makes loads and its calls work, each failing
// system call is its own errno error, and a missing addon is a clean message.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { EX_UNAVAILABLE, NATIVE_BUILD, loadNativeFrom, type NativeAddon } from '../../src/core/index.js';
import { haveCommand, needs, repoRoot } from '../helpers/system.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('moat-native addon', () => {
  let work = '';
  let addon: NativeAddon | undefined;
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'moat-native-'));
  });
  after(() => {
    rmSync(work, { recursive: true, force: true });
  });

  it('compiles without warnings under -Wall -Wextra -Werror and loads', (t) => {
    if (!needs(t, { 'a C compiler (cc)': haveCommand('cc') })) return;
    const out = join(work, 'moat-native.node');
    const r = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'build-native.mjs'), '--strict', '--force', '--out', out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    // Any diagnostic at all is a warning -Werror would have made fatal; none may be printed.
    assert.doesNotMatch(r.stderr, /warning|error/i);
    const loaded = loadNativeFrom([out]);
    assert.deepEqual(loaded.tried, []);
    addon = loaded.addon;
    assert.notEqual(addon, undefined);
  });

  it('spawns argv without a shell in a new process group, stdio on /dev/null, and reaps without blocking', async (t) => {
    if (!needs(t, { 'a C compiler (cc)': haveCommand('cc') }) || addon === undefined) return;
    const a = addon;
    const file = join(work, 'out');
    // A shell only because the test needs to see the child's view: its own group, its stdin.
    const pid = a.spawn('/bin/sh', ['/bin/sh', '-c', `ps -o pgid= -p $$ > ${file}; readlink /proc/$$/fd/0 >> ${file}; exit 7`]);
    assert.ok(pid > 0);
    let status = a.reap(pid);
    for (let i = 0; i < 500 && status === undefined; i++) {
      await sleep(10);
      status = a.reap(pid);
    }
    assert.deepEqual(status, { code: 7 });
    const [pgid, stdin] = readFileSync(file, 'utf8').trim().split('\n');
    assert.equal(Number(pgid), pid, 'the child leads a group of its own');
    assert.equal(stdin, '/dev/null');
    // Arguments are passed as they are: no word splitting or globbing.
    const echo = a.spawn('/bin/sh', ['/bin/sh', '-c', `printf '%s\\n' "$1" > ${file}`, 'sh', '* $HOME `x`']);
    while (!a.exited(echo)) await sleep(5);
    assert.equal(a.exited(echo), true, 'exited() leaves the zombie to reap');
    assert.deepEqual(a.reap(echo), { code: 0 });
    assert.equal(readFileSync(file, 'utf8'), '* $HOME `x`\n');
    // PATH search without a slash; killed by a signal.
    const sleeper = a.spawn('sleep', ['sleep', '30']);
    assert.equal(a.reap(sleeper), undefined);
    process.kill(-sleeper, 'SIGTERM');
    while (!a.exited(sleeper)) await sleep(5);
    assert.deepEqual(a.reap(sleeper), { signal: 15 });
  });

  it('gives each failing call its own errno error', (t) => {
    if (!needs(t, { 'a C compiler (cc)': haveCommand('cc') }) || addon === undefined) return;
    const a = addon;
    const err = (f: () => unknown): NodeJS.ErrnoException => {
      try {
        f();
      } catch (e) {
        return e as NodeJS.ErrnoException;
      }
      assert.fail('did not throw');
    };
    const missing = err(() => a.spawn('/nonexistent/moat-no-such-command', ['x']));
    assert.equal(missing.code, 'ENOENT');
    assert.equal(missing.syscall, 'posix_spawn');
    assert.equal(missing.path, '/nonexistent/moat-no-such-command');
    assert.equal(err(() => (a.spawn as (...x: unknown[]) => number)()).name, 'TypeError');
    const noPath = err(() => a.spawn('moat-no-such-command-on-path', ['x']));
    assert.equal(noPath.syscall, 'posix_spawnp');
    assert.equal(noPath.code, 'ENOENT');
    const chroot = err(() => {
      a.chroot('/nonexistent/moat');
    });
    assert.equal(chroot.syscall, 'chroot');
    assert.equal(chroot.code, 'ENOENT');
    assert.equal(chroot.errno, 2);
    assert.match(chroot.message, /^chroot \/nonexistent\/moat: No such file or directory$/);
    const chdir = err(() => {
      a.chdir('/etc/passwd');
    });
    assert.equal(chdir.syscall, 'chdir');
    assert.equal(chdir.code, 'ENOTDIR');
    assert.equal(err(() => a.reap(1)).syscall, 'waitpid');
    assert.equal(err(() => a.exited(1)).syscall, 'waitid');
    assert.equal(err(() => { a.chroot('a\0b'); }).name, 'TypeError');
    assert.equal(err(() => a.spawn('/bin/true', [])).name, 'TypeError');
    if (process.platform !== 'freebsd') assert.equal(err(() => { a.jailAttach(1); }).code, 'ENOSYS');
  });

  it('a missing addon is a clean message naming the build step, with EX_UNAVAILABLE', () => {
    const gone = loadNativeFrom([join(work, 'nothing-here.node')]);
    assert.equal(gone.addon, undefined);
    assert.match(gone.tried[0] ?? '', /nothing-here\.node: /);
    // And a file that is not moat's addon.
    const bogus = loadNativeFrom(['/etc/passwd']);
    assert.equal(bogus.addon, undefined);
    // A fresh process whose MOAT_NATIVE names nothing: the message says how to build it.
    const core = pathToFileURL(join(repoRoot, 'dist', 'src', 'core', 'index.js')).href;
    const script = `import { requireNative } from ${JSON.stringify(core)}; try { requireNative('--chroot'); } catch (e) { console.log(JSON.stringify({ code: e.code, exit: e.exitCode, message: e.message })); }`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, MOAT_NATIVE: join(work, 'nothing-here.node') } });
    const e = JSON.parse(r.stdout) as { code: string; exit: number; message: string };
    assert.equal(e.code, 'MOAT_NATIVE_MISSING');
    assert.equal(e.exit, EX_UNAVAILABLE);
    assert.ok(e.message.includes(NATIVE_BUILD), e.message);
    assert.match(e.message, /^--chroot needs moat's native addon moat-native\.node, which did not load \(.*nothing-here\.node: /);
  });
});
