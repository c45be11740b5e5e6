// The variant seed 001 wished for: a daemon that enters the jail itself
// (moat finger --jail on FreeBSD, --chroot on Linux), started from the host,
// so the jail holds no executable and is exec=off. The Linux unit goes
// through the real systemd-analyze verify, as render-systemd.test.ts does.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { renderSpecFile, type RenderedFile } from '../../src/jail/index.js';
import { haveCommand, needs, repoRoot } from '../helpers/system.js';

const SPEC = join(repoRoot, 'examples', 'jail', 'moat-finger-selfjail.yaml');
const UNIT_DIR = '/usr/lib/systemd/system';
let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'moat-jail-self-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function file(files: RenderedFile[], path: string): string {
  const f = files.find((x) => x.path === path);
  assert.ok(f, `no ${path}`);
  return f.content;
}

test('FreeBSD: no jexec, the daemon gets --jail and a host pidfile; the jail dataset is exec=off and gets no binary', async () => {
  const { files } = await renderSpecFile(SPEC, ['freebsd']);
  const rc = file(files, 'freebsd/rc.d/moat_finger');
  assert.doesNotMatch(rc, /jexec ("\$jail_name"|-u)/);
  assert.match(rc, /^\tdaemon -c \\\n\t {4}\/usr\/local\/bin\/moat finger .* --pidfile \/jails\/finger\/log\/pids\/moat-finger\.pid --jail finger \\$/m);
  // rc.subr still finds the daemon in the jail once it has entered it.
  assert.match(rc, /^JID=\$\(jls -j "\$jail_name" jid/m);
  const zfs = file(files, 'freebsd/zfs-setup.sh');
  assert.match(zfs, /^zfs create -o exec=off -o setuid=off .* zroot\/jails\/finger$/m);
  assert.doesNotMatch(zfs, /^install .*\/jails\/finger/m);
  assert.doesNotMatch(zfs, /^mkdir .*\/usr/m);
  assert.match(file(files, 'freebsd/jail.conf'), /^\tpersist;$/m);
  assert.match(file(files, 'freebsd/INSTALL'), /The jail holds no executable/);
  assert.doesNotMatch(file(files, 'freebsd/update.sh'), /readonly=off/);
});

test('Linux: ExecStart on the host with --chroot, the root its own read-only noexec mount, the capabilities chroot and the drop need', async () => {
  const { files } = await renderSpecFile(SPEC, ['linux']);
  const unit = file(files, 'linux/moat_finger.service');
  assert.match(unit, /^ExecStart=\/usr\/local\/bin\/moat finger .*--run-as-user 65534:65534 --chroot \/jails\/finger$/m);
  assert.doesNotMatch(unit, /^RootDirectory=/m);
  assert.doesNotMatch(unit, /^(DynamicUser|User|PrivateUsers)=/m);
  assert.match(unit, /^BindReadOnlyPaths=\/jails\/finger$/m);
  assert.match(unit, /^NoExecPaths=\/jails\/finger$/m);
  assert.match(unit, /^BindReadOnlyPaths=\/home:\/jails\/finger\/home$/m);
  assert.match(unit, /^CapabilityBoundingSet=CAP_SYS_CHROOT CAP_SETUID CAP_SETGID CAP_NET_BIND_SERVICE$/m);
  assert.match(unit, /^SystemCallFilter=@system-service chroot$/m);
  assert.doesNotMatch(unit, /@privileged/);
  assert.match(unit, /^ExecPaths=\/usr\/local\/bin\/moat -\/usr\/local\/bin\/moat-native\.node /m);
  assert.match(unit, /^NoNewPrivileges=yes$/m);
});

test('selfJail with a PF redirect is refused, at its line', async () => {
  const spec = join(dir, 'bad.yaml');
  await writeFile(spec, `${await readFile(SPEC, 'utf8')}redirect:\n  port: 1079\n  publicAddress: 192.0.2.3\n  interfaces: [lo0]\n`);
  await assert.rejects(renderSpecFile(spec, ['freebsd']), /selfJail.*leave out redirect|leave out redirect/);
});

test('systemd-analyze verify passes on the self-jailing unit', async (t) => {
  if (!needs(t, { 'systemd-analyze': haveCommand('systemd-analyze'), [UNIT_DIR]: existsSync(`${UNIT_DIR}/multi-user.target`) })) return;
  // verify --root=ROOT looks ExecStart's binary and the units up under ROOT.
  const root = join(dir, 'root');
  await mkdir(join(root, 'usr', 'local', 'bin'), { recursive: true });
  await copyFile('/bin/true', join(root, 'usr', 'local', 'bin', 'moat'));
  await cp(UNIT_DIR, join(root, UNIT_DIR), { recursive: true, verbatimSymlinks: true });
  const { files } = await renderSpecFile(SPEC, ['linux']);
  const unitDir = join(root, 'etc', 'systemd', 'system');
  await mkdir(unitDir, { recursive: true });
  const path = join(unitDir, 'moat_finger.service');
  await writeFile(path, file(files, 'linux/moat_finger.service'));
  const r = spawnSync('systemd-analyze', ['verify', '--man=no', `--root=${root}`, path], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, SYSTEMD_COLORS: '0', SYSTEMD_PAGER: '' } });
  assert.equal(r.stderr + r.stdout, '');
  assert.equal(r.status, 0);
});
