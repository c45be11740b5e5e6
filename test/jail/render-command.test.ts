import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCommand } from '../../src/core/index.js';
import { main } from '../../src/jail/index.js';
import { captureIo } from '../helpers/io.js';
import { fixture, repoRoot } from '../helpers/system.js';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'moat-jail-cli-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Run `moat jail ARGS` in-process, through the CLI's error mapping. */
async function jail(...argv: string[]) {
  const io = captureIo();
  const code = await runCommand('moat jail', () => main(argv, io), io);
  return { code, out: io.out(), err: io.err() };
}

async function listTree(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(root.length + 1)).sort();
}

test('render writes the FreeBSD and Linux files, scripts executable, and lists them', async () => {
  const out = join(dir, 'all');
  const r = await jail('render', join(repoRoot, 'examples', 'jail', 'finger.yaml'), '--out', out);
  assert.equal(r.err, '');
  assert.equal(r.code, 0);
  const files = await listTree(out);
  assert.deepEqual(files, [
    'freebsd/INSTALL',
    'freebsd/UPDATE',
    'freebsd/fstab',
    'freebsd/jail.conf',
    'freebsd/rc.conf',
    'freebsd/rc.d/fingerd',
    'freebsd/update.sh',
    'freebsd/zfs-setup.sh',
    'linux/fingerd.service',
  ]);
  assert.deepEqual(r.out.trim().split('\n').map((p) => p.slice(out.length + 1)).sort(), files);
  assert.equal((await stat(join(out, 'freebsd/rc.d/fingerd'))).mode & 0o777, 0o755);
  assert.equal((await stat(join(out, 'freebsd/jail.conf'))).mode & 0o777, 0o644);
});

test('--os picks one target, and the redirect variant adds pf.conf', async () => {
  const linux = join(dir, 'linux');
  assert.equal((await jail('render', '--os', 'linux', '--out', linux, join(repoRoot, 'examples', 'jail', 'finger.yaml'))).code, 0);
  assert.deepEqual(await listTree(linux), ['linux/fingerd.service']);
  const bsd = join(dir, 'bsd');
  assert.equal((await jail('render', '--os', 'freebsd', '--out', bsd, join(repoRoot, 'examples', 'jail', 'finger-1079.yaml'))).code, 0);
  const files = await listTree(bsd);
  assert.ok(files.includes('freebsd/pf.conf'));
  assert.ok(!files.some((f) => f.startsWith('linux/')));
  assert.equal((await jail('render', '--os', 'solaris', '--out', bsd, fixture('jail', 'minimal.yaml'))).code, 64);
});

test('a spec error names field, line and column, and writes nothing', async () => {
  const out = join(dir, 'never');
  const r = await jail('render', fixture('jail', 'bad-port.yaml'), '--out', out);
  assert.equal(r.code, 65);
  assert.equal(r.out, '');
  const [head, line, caret] = r.err.split('\n');
  assert.match(head ?? '', /bad-port\.yaml:7:7: port: .*65535/);
  assert.equal(line, 'port: 70000');
  assert.equal(caret, '      ^^^^^');
  await assert.rejects(stat(out), { code: 'ENOENT' });
});

test('a spec error leaves an existing output directory exactly as it was', async () => {
  const out = join(dir, 'kept');
  assert.equal((await jail('render', fixture('jail', 'minimal.yaml'), '--out', out)).code, 0);
  const before = await readFile(join(out, 'freebsd', 'rc.d', 'echod'), 'utf8');
  const bad = join(dir, 'bad.yaml');
  await writeFile(bad, (await readFile(fixture('jail', 'minimal.yaml'), 'utf8')).replace('address: 192.0.2.7', 'address: "192.0.2.7\\nrm -rf /"'));
  const r = await jail('render', bad, '--out', out);
  assert.equal(r.code, 65);
  assert.match(r.err, /bad\.yaml:\d+:\d+: address: /);
  assert.equal(await readFile(join(out, 'freebsd', 'rc.d', 'echod'), 'utf8'), before);
});

test('an output path that cannot be a directory is a clear error, not a crash', async () => {
  const file = join(dir, 'plain-file');
  await writeFile(file, 'x');
  const r = await jail('render', fixture('jail', 'minimal.yaml'), '--out', file);
  assert.equal(r.code, 73);
  assert.match(r.err, /^moat jail: cannot create .*plain-file\/\S+: (Not a directory \(ENOTDIR\)|\S*plain-file is not a directory)$/m);
  assert.equal(await readFile(file, 'utf8'), 'x');
});

test('check is silent on a good spec and reports a bad one', async () => {
  const good = await jail('check', join(repoRoot, 'examples', 'jail', 'finger-1079.yaml'));
  assert.deepEqual(good, { code: 0, out: '', err: '' });
  const bad = await jail('check', fixture('jail', 'bad-port.yaml'));
  assert.equal(bad.code, 65);
  assert.match(bad.err, /:7:7: port: /);
  const missing = await jail('check', join(dir, 'no-such.yaml'));
  assert.equal(missing.code, 66);
  assert.match(missing.err, /cannot read .*no-such\.yaml: No such file or directory \(ENOENT\)/);
});

test('usage errors and help', async () => {
  for (const argv of [['render', fixture('jail', 'minimal.yaml')], ['render', '--out', dir], ['render', '--bogus'], ['check'], ['check', 'a', 'b'], ['frobnicate'], []]) {
    const r = await jail(...argv);
    assert.equal(r.code, 64, argv.join(' '));
    assert.ok(r.err.length > 0);
    assert.ok(r.err.trim().split('\n').length <= 3, r.err);
  }
  for (const argv of [['--help'], ['render', '--help'], ['check', '-h']]) {
    const r = await jail(...argv);
    assert.equal(r.code, 0);
    assert.match(r.out, /^usage: moat jail/);
    assert.ok(r.out.split('\n').length <= 24);
  }
});

test("a value still holding seed 001's /path/to/ placeholder is a warning at its line, and the render goes on", async () => {
  const spec = join(dir, 'placeholder.yaml');
  const minimal = await readFile(fixture('jail', 'minimal.yaml'), 'utf8');
  await writeFile(spec, `${minimal.replace('install: /usr/local/libexec/echod', 'install: /path/to/compiled/echod # was /path/to/x')}freebsd:\n  # rcDir: /path/to/my/rc.d\n  rcDir: /path/to/my/rc.d\n`);
  const check = await jail('check', spec);
  assert.equal(check.code, 0, check.err);
  assert.equal(
    check.err,
    [
      `${spec}:4:10: warning: install: /path/to/compiled/echod is seed 001's placeholder; give the real path`,
      'install: /path/to/compiled/echod # was /path/to/x',
      '         ^^^^^^^^^^^^^^^^^^^^^^^',
      `${spec}:10:10: warning: freebsd.rcDir: /path/to/my/rc.d is seed 001's placeholder; give the real path`,
      '  rcDir: /path/to/my/rc.d',
      '         ^^^^^^^^^^^^^^^^',
      '',
    ].join('\n'),
  );
  const out = join(dir, 'placeholder-out');
  const render = await jail('render', '--out', out, spec);
  assert.equal(render.code, 0, render.err);
  assert.equal(render.err, check.err);
  // The placeholder is still rendered: the warning says so, it does not guess.
  assert.match(await readFile(join(out, 'freebsd', 'rc.conf'), 'utf8'), /^local_startup="\/path\/to\/my\/rc\.d \$local_startup"$/m);
});
