// moat finger --chroot DIR, as root, against the Debian finger client: the
// daemon binds, confines itself to DIR, drops to 65534:65534 and still serves
// from inside; DIR bind-mounted noexec,nosuid,nodev,ro in a private mount
// namespace serves too; symlinked plans serve nothing; SIGHUP, a changed
// finger.conf, SIGUSR1 and remote syslog work after the chroot. Without the
// native addon --chroot fails at start with EX_UNAVAILABLE.
//
// The client always dials port 79; each daemon listens on its own random
// 127.x.y.1 address, so this file never meets another test's port 79.
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, lchownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { EX_CONFIG, EX_UNAVAILABLE, EX_USAGE, NATIVE_BUILD, loadNative } from '../../src/core/index.js';
import { startRsyslog, type Rsyslog } from '../helpers/rsyslog.js';
import { haveCommand, isRoot, needs } from '../helpers/system.js';
import { moatBin, sleep } from './finger-fixture.js';

const run = promisify(execFile);
const ALICE = 1500;

async function finger(who: string, host: string): Promise<string> {
  const r = await run('finger', [`${who}@${host}`], { timeout: 10000 });
  return r.stdout.replace(/\r\n/g, '\n');
}

/** DIR: only data. Alice's plan, a plan linking out to /etc/shadow, one linking ../../etc/passwd, and a decoy DIR/etc/passwd. */
function makeDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'moat-finger-chroot-'));
  chmodSync(dir, 0o755);
  const home = (name: string): string => {
    const h = join(dir, 'home', name);
    mkdirSync(h, { recursive: true });
    chownSync(h, ALICE, ALICE);
    return h;
  };
  const alice = home('alice');
  writeFileSync(join(alice, '.plan'), 'Confined, and still serving.\n');
  chownSync(join(alice, '.plan'), ALICE, ALICE);
  const mallory = home('mallory');
  symlinkSync('/etc/shadow', join(mallory, '.plan'));
  lchownSync(join(mallory, '.plan'), ALICE, ALICE);
  const eve = home('eve');
  symlinkSync('../../etc/passwd', join(eve, '.plan'));
  lchownSync(join(eve, '.plan'), ALICE, ALICE);
  mkdirSync(join(dir, 'etc'));
  writeFileSync(join(dir, 'etc', 'passwd'), 'decoy-inside-dir\n');
  writeFileSync(join(dir, 'etc', 'finger.conf'), 'ally:alice\n');
  return dir;
}

function randomLoopback(): string {
  const b = (): number => 1 + Math.floor(Math.random() * 250);
  return `127.${String(b())}.${String(b())}.1`;
}

interface Daemon {
  child: ChildProcess;
  log: () => string;
  pid: () => number;
}

/** Start moat finger (through `prefix`, such as unshare) and wait for its 'listening' line. */
async function startDaemon(prefix: string[], args: string[]): Promise<Daemon> {
  const argv = [...prefix, process.execPath, moatBin, 'finger', ...args];
  const child = spawn(argv[0] ?? 'false', argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  let text = '';
  child.stderr.on('data', (c: Buffer) => (text += c.toString('utf8')));
  for (let i = 0; i < 200 && !text.includes('listening') && child.exitCode === null; i++) await sleep(50);
  assert.match(text, /listening/, text);
  // unshare(1) without --fork and sh's exec keep the pid: it is node's.
  const pid = (): number => child.pid ?? -1;
  return { child, log: () => text, pid };
}

async function stop(d: Daemon | undefined): Promise<void> {
  if (d?.child.exitCode !== null) return;
  const gone = new Promise((r) => d.child.once('exit', r));
  d.child.kill('SIGTERM');
  await Promise.race([gone, sleep(5000)]);
  d.child.kill('SIGKILL');
}

describe('moat finger --chroot', () => {
  const dirs: string[] = [];
  const daemons: Daemon[] = [];
  let syslog: Rsyslog | undefined;
  after(async () => {
    for (const d of daemons) await stop(d);
    await syslog?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('without the native addon fails at start with EX_UNAVAILABLE, naming the build step', () => {
    const dir = mkdtempSync(join(tmpdir(), 'moat-finger-chroot-'));
    dirs.push(dir);
    const r = spawnSync(process.execPath, [moatBin, 'finger', '--chroot', dir, '--listen', '127.0.0.1:0', '--run-as-user', '65534:65534'], {
      encoding: 'utf8',
      env: { ...process.env, MOAT_NATIVE: join(dir, 'no-such-addon.node') },
      timeout: 20000,
    });
    assert.equal(r.status, EX_UNAVAILABLE, r.stderr);
    assert.ok(r.stderr.includes(NATIVE_BUILD), r.stderr);
    assert.match(r.stderr, /--chroot needs moat's native addon/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });

  it('refuses, before binding anything, --chroot with --jail, a DIR that is not a directory, and --jail off FreeBSD', (t) => {
    if (!needs(t, { root: isRoot, 'the native addon (npm run build:native)': loadNative() !== undefined })) return;
    const moat = (...args: string[]): { status: number | null; stderr: string } =>
      spawnSync(process.execPath, [moatBin, 'finger', '--listen', '127.0.0.1:0', '--run-as-user', '65534:65534', ...args], { encoding: 'utf8', timeout: 20000 });
    const both = moat('--chroot', '/tmp', '--jail', 'finger');
    assert.equal(both.status, EX_USAGE, both.stderr);
    assert.match(both.stderr, /give --chroot or --jail, not both/);
    const notDir = moat('--chroot', '/etc/passwd');
    assert.equal(notDir.status, EX_CONFIG, notDir.stderr);
    assert.match(notDir.stderr, /--chroot \/etc\/passwd: not a directory/);
    const missing = moat('--chroot', '/nonexistent/moat-dir');
    assert.equal(missing.status, EX_CONFIG, missing.stderr);
    assert.match(missing.stderr, /No such file or directory/);
    if (process.platform !== 'freebsd') {
      const jail = moat('--jail', 'finger');
      assert.equal(jail.status, EX_CONFIG, jail.stderr);
      assert.match(jail.stderr, /jails are FreeBSD's; use --chroot DIR here/);
    }
  });

  it('serves alice from inside DIR as 65534 with no groups and NoNewPrivs; symlinks serve nothing; SIGHUP, finger.conf and SIGUSR1 work; syslog still gets lines', { timeout: 60_000 }, async (t) => {
    if (!needs(t, { root: isRoot, 'finger client': haveCommand('finger'), rsyslogd: haveCommand('rsyslogd'), 'the native addon (npm run build:native)': loadNative() !== undefined })) return;
    syslog = await startRsyslog();
    const dir = makeDir();
    dirs.push(dir);
    const host = randomLoopback();
    const d = await startDaemon([], [
      '--chroot', dir, '--homes', '/home', '--aliases', '/etc/finger.conf', '--listen', `${host}:79`,
      '--run-as-user', '65534:65534', '--log-syslog', `udp://127.0.0.1:${String(syslog.udpPort)}`, '--recheck-ms', '0',
    ]);
    daemons.push(d);
    const pid = d.pid();

    assert.match(await finger('alice', host), /^Plan: Confined, and still serving\.$/m);
    assert.equal(readlinkSync(`/proc/${String(pid)}/root`), dir);
    const status = readFileSync(`/proc/${String(pid)}/status`, 'utf8');
    assert.match(status, /^Uid:\s+65534\s+65534\s+65534\s+65534$/m);
    assert.match(status, /^Gid:\s+65534\s+65534\s+65534\s+65534$/m);
    assert.match(status, /^Groups:\s*$/m);
    assert.match(status, /^NoNewPrivs:\s+1$/m);
    // Every thread, not only the main one: Node's worker threads exist before the chroot.
    for (const task of readdirSync(`/proc/${String(pid)}/task`)) {
      assert.match(readFileSync(`/proc/${String(pid)}/task/${task}/status`, 'utf8'), /^NoNewPrivs:\s+1$/m, `thread ${task}`);
    }

    // Symlinked plans, out of DIR and up through ../..: nothing of either target.
    const mallory = await finger('mallory', host);
    const eve = await finger('eve', host);
    assert.doesNotMatch(mallory, /root:|Plan:/);
    assert.doesNotMatch(eve, /decoy|root:|Plan:/);
    assert.match(eve, /^Login: eve/m);

    // finger.conf, inside DIR, changes: the poll inside the chroot sees it.
    assert.match(await finger('ally', host), /Confined, and still serving/);
    const conf = join(dir, 'etc', 'finger.conf');
    writeFileSync(`${conf}.new`, 'ally:alice\nalicia:alice\n');
    renameSync(`${conf}.new`, conf);
    for (let i = 0; i < 100 && !d.log().includes('aliases=2'); i++) await sleep(50);
    assert.match(d.log(), /reloaded aliases=2/);
    assert.match(await finger('alicia', host), /Confined, and still serving/);

    // SIGHUP reloads from inside; SIGUSR1 prints a status line and the daemon lives on.
    const before = (d.log().match(/reloaded/g) ?? []).length;
    process.kill(pid, 'SIGHUP');
    for (let i = 0; i < 100 && (d.log().match(/reloaded/g) ?? []).length === before; i++) await sleep(50);
    assert.equal((d.log().match(/reloaded/g) ?? []).length, before + 1, d.log());
    process.kill(pid, 'SIGUSR1');
    for (let i = 0; i < 100 && !d.log().includes('served'); i++) await sleep(50);
    assert.match(d.log(), /moat finger\[\d+\]: .*served/);
    assert.match(await finger('alice', host), /Confined, and still serving/);
    assert.equal(d.child.exitCode, null);

    // Remote syslog: lines logged after the chroot arrive (the reload and the queries).
    await syslog.waitFor(/reloaded/);
    await syslog.waitFor(/query=alicia|alicia/);
  });

  it('serves from DIR bind-mounted noexec,nosuid,nodev,ro in a private mount namespace', { timeout: 60_000 }, async (t) => {
    if (!needs(t, { root: isRoot, 'finger client': haveCommand('finger'), unshare: haveCommand('unshare'), 'the native addon (npm run build:native)': loadNative() !== undefined })) return;
    const dir = makeDir();
    dirs.push(dir);
    const host = randomLoopback();
    // The mount exists only in the daemon's own namespace; "$1" is DIR, passed as an argument, never spliced into the script.
    const prefix = ['unshare', '-m', '--propagation', 'private', 'sh', '-c', 'mount --bind "$1" "$1" && mount -o remount,bind,ro,noexec,nosuid,nodev "$1" && shift && exec "$@"', 'sh', dir];
    const d = await startDaemon(prefix, ['--chroot', dir, '--homes', '/home', '--listen', `${host}:79`, '--run-as-user', '65534:65534']);
    daemons.push(d);
    const pid = d.pid();
    const mounts = readFileSync(`/proc/${String(pid)}/mountinfo`, 'utf8');
    // Inside the chroot the mount of DIR is "/".
    const root = mounts.split('\n').find((l) => l.split(' ')[4] === '/' && l.includes(' ro,') && l.includes('noexec'));
    assert.ok(root, mounts);
    assert.match(root, /nosuid/);
    assert.match(root, /nodev/);
    assert.match(await finger('alice', host), /^Plan: Confined, and still serving\.$/m);
  });
});
