// The Linux unit against the real systemd-analyze: `verify` must pass with
// the unit's root in place, and `security --offline=yes` must rate it "OK".
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { renderSpecFile } from '../../src/jail/index.js';
import { fixture, haveCommand, needs, repoRoot } from '../helpers/system.js';

const UNIT_DIR = '/usr/lib/systemd/system';
let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'moat-jail-systemd-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function haveSystemd(t: TestContext): boolean {
  return needs(t, { 'systemd-analyze': haveCommand('systemd-analyze'), [UNIT_DIR]: existsSync(`${UNIT_DIR}/multi-user.target`) });
}

/**
 * A root holding the daemon (any executable will do for verify) and a copy of
 * the system's units: `verify --root=ROOT` looks the ExecStart= binary, the
 * unit and the units it depends on up under ROOT.
 */
async function makeRoot(name: string, binary: string): Promise<string> {
  const root = join(dir, name);
  await mkdir(join(root, binary, '..'), { recursive: true });
  await copyFile('/bin/true', join(root, binary));
  await mkdir(join(root, 'log'));
  await cp(UNIT_DIR, join(root, UNIT_DIR), { recursive: true, verbatimSymlinks: true });
  return root;
}

/** Render SPEC with its root set to ROOT; returns the unit's path. */
async function renderUnit(specFile: string, root: string, extra = ''): Promise<{ path: string; text: string }> {
  const spec = join(root, '..', `${root.split('/').pop() ?? 'x'}.yaml`);
  await writeFile(spec, `${await readFile(specFile, 'utf8')}\nroot: ${root}\n${extra}`);
  const { files, plan } = await renderSpecFile(spec, ['linux']);
  // Where they would be installed: with --root, verify loads units by name from ROOT's unit directories.
  const unitDir = join(root, 'etc', 'systemd', 'system');
  await mkdir(unitDir, { recursive: true });
  for (const f of files) await writeFile(join(unitDir, f.path.replace(/^linux\//, '')), f.content);
  const unit = files.find((f) => f.path === `linux/${plan.service}.service`);
  assert.ok(unit);
  return { path: join(unitDir, `${plan.service}.service`), text: unit.content };
}

function analyze(...args: string[]) {
  const r = spawnSync('systemd-analyze', args, { encoding: 'utf8', timeout: 60_000, env: { ...process.env, SYSTEMD_COLORS: '0', SYSTEMD_PAGER: '' } });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

function exposure(unitPath: string): number {
  const r = analyze('security', '--offline=yes', unitPath);
  assert.equal(r.status, 0, r.err);
  const m = /Overall exposure level for \S+: (\d+\.\d+) (\S+)/.exec(r.out);
  assert.ok(m, r.out);
  return Number(m[1]);
}

const FINGER = join(repoRoot, 'examples', 'jail', 'finger.yaml');

test('the finger unit has the settings the brief names', async () => {
  const { files } = await renderSpecFile(FINGER, ['linux']);
  const text = files[0]?.content ?? '';
  for (const line of [
    /^RootDirectory=\/jails\/finger$/m,
    /^DynamicUser=yes$/m,
    /^ProtectSystem=strict$/m,
    /^PrivateDevices=yes$/m,
    /^NoNewPrivileges=yes$/m,
    /^RestrictAddressFamilies=AF_INET AF_INET6$/m,
    /^CapabilityBoundingSet=CAP_NET_BIND_SERVICE$/m,
    /^SystemCallFilter=@system-service$/m,
    /^BindReadOnlyPaths=\/jails\/normal-user-jail\/home:\/home$/m,
    /^ExecStart=\/srv\/finger\/bin\/fingerd -listen 192\.0\.2\.1:79$/m,
  ]) {
    assert.match(text, line);
  }
});

test('systemd-analyze verify passes on the finger unit, and fails without the binary in the root', async (t) => {
  if (!haveSystemd(t)) return;
  const root = await makeRoot('finger', '/srv/finger/bin/fingerd');
  const { path } = await renderUnit(FINGER, root);
  const ok = analyze('verify', '--man=no', `--root=${root}`, path);
  assert.equal(ok.err + ok.out, '');
  assert.equal(ok.status, 0);
  // The check is real: the same unit fails once the binary is gone.
  await rm(join(root, 'srv/finger/bin/fingerd'));
  const missing = analyze('verify', '--man=no', `--root=${root}`, path);
  assert.notEqual(missing.status, 0);
  assert.match(missing.err, /fingerd is not executable/);
});

test('systemd-analyze security rates the finger unit OK (exposure at most 2.0)', async (t) => {
  if (!haveSystemd(t)) return;
  const { files } = await renderSpecFile(FINGER, ['linux']);
  const path = join(dir, 'fingerd.service');
  await writeFile(path, files[0]?.content ?? '');
  const level = exposure(path);
  t.diagnostic(`exposure of fingerd.service: ${level.toFixed(1)}`);
  assert.ok(level <= 2.0, `exposure ${String(level)}`);
});

test('hostile arguments give a unit that systemd parses without a complaint', async (t) => {
  if (!haveSystemd(t)) return;
  const root = await makeRoot('hostile', '/srv/hostile/bin/daemon');
  const { path, text } = await renderUnit(fixture('jail', 'hostile-args.yaml'), root);
  assert.match(text, /^ExecStart=\/srv\/hostile\/bin\/daemon "\$\$\(touch PWNED\)" "`touch PWNED`" "it's; touch PWNED" "say \\"hi\\" \\\\ there" "\*" "%%n %%%% \$\$HOME \$\${HOME} \$\$\$\$" ";" "" -x=7979$/m);
  const r = analyze('verify', '--man=no', `--root=${root}`, path);
  assert.equal(r.err + r.out, '');
  assert.equal(r.status, 0);
});

test('with socket activation the service has no network and no capabilities, and rates SAFE', async (t) => {
  if (!haveSystemd(t)) return;
  const root = await makeRoot('activated', '/usr/local/bin/moat');
  const { path, text } = await renderUnit(join(repoRoot, 'examples', 'jail', 'moat-finger.yaml'), root);
  assert.match(text, /^PrivateNetwork=yes$/m);
  assert.match(text, /^CapabilityBoundingSet=$/m);
  assert.match(text, /^RestrictAddressFamilies=none$/m);
  assert.match(text, /^Requires=moat_finger\.socket$/m);
  const socket = join(path, '..', 'moat_finger.socket');
  assert.match(await readFile(socket, 'utf8'), /^ListenStream=192\.0\.2\.1:79$/m);
  const r = analyze('verify', '--man=no', `--root=${root}`, socket, path);
  assert.equal(r.err + r.out, '');
  assert.equal(r.status, 0);
  const level = exposure(path);
  t.diagnostic(`exposure of moat_finger.service (socket-activated): ${level.toFixed(1)}`);
  assert.ok(level <= 1.0, `exposure ${String(level)}`);
});
