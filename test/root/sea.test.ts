// The worked example: moat as one executable (a Node SEA), a root holding
// only that executable and its libraries, `moat finger` started from the root
// with `moat root run`, and the Debian finger client querying it on port 79
// inside a network namespace made for the test.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, it } from 'node:test';
import { buildSea } from '../../src/root/sea.js';
import { main } from '../../src/root/index.js';
import { scanRoot } from '../../src/root/manifest.js';
import { captureIo } from '../helpers/io.js';
import { haveCommand, haveNetns, isRoot, needs, repoRoot } from '../helpers/system.js';
import { EX_UNAVAILABLE, loadNative } from '../../src/core/index.js';
import { freePort } from '../helpers/rsyslog.js';

const here = dirname(fileURLToPath(import.meta.url));
const moatJs = join(here, '..', '..', 'bin', 'moat.js');
const netns = `moat-root-${String(process.pid)}`;
let work = '';
let daemon: ChildProcess | undefined;

after(() => {
  daemon?.kill('SIGTERM');
  spawnSync('ip', ['netns', 'del', netns], { stdio: 'ignore' });
  if (work !== '') rmSync(work, { recursive: true, force: true });
});

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

it('moat as a Node SEA in a root of its own serves finger to the Debian client', { timeout: 120_000 }, async (t) => {
  if (!needs(t, { root: isRoot, 'network namespaces': haveNetns(), 'finger client': haveCommand('finger'), bwrap: haveCommand('bwrap') })) return;
  work = mkdtempSync(join('/var/tmp', 'moat-sea-'));
  chmodSync(work, 0o755);
  const exe = join(work, 'moat');
  const sea = await buildSea({ entry: moatJs, out: exe, strip: haveCommand('strip') });
  assert.ok(sea.bytes > 1e6);
  const v = spawnSync(exe, ['--version'], { encoding: 'utf8' });
  // The same version the unbundled CLI reports: the bundle carries package.json's text.
  const dist = spawnSync(process.execPath, [moatJs, '--version'], { encoding: 'utf8' });
  assert.equal(v.stdout, dist.stdout);

  // Home directories for the finger service, copied in with --file SRC:DEST.
  const homes = join(work, 'homes');
  mkdirSync(join(homes, 'alice'), { recursive: true });
  writeFileSync(join(homes, 'alice', '.plan'), 'Alice plans to build OS-less jails.\n');
  const root = join(work, 'root');
  const io = captureIo();
  const code = await main(['build', '--root', root, `${exe}:/moat`, '--file', `${homes}:/home`], io);
  assert.equal(code, 0, io.err());
  const entries = scanRoot(root);
  const bytes = entries.reduce((n, e) => n + (e.size ?? 0), 0);
  const files = entries.filter((e) => e.type === 'file').map((e) => e.path);
  t.diagnostic(`SEA ${(sea.bytes / 1e6).toFixed(1)} MB; root ${(bytes / 1e6).toFixed(1)} MB in ${files.length} files: ${files.join(' ')}`);
  // Only the executable, its libraries, the loader's cache and the .plan: no shell, no node.
  for (const f of files) assert.match(f, /^\/moat$|^\/usr\/lib\/x86_64-linux-gnu\/[^/]+$|^\/etc\/ld\.so\.(cache|conf)$|^\/home\/alice\/\.plan$/, f);

  // A private network namespace where unprivileged users may bind port 79.
  assert.equal(spawnSync('ip', ['netns', 'add', netns]).status, 0);
  assert.equal(spawnSync('ip', ['-n', netns, 'link', 'set', 'lo', 'up']).status, 0);
  assert.equal(spawnSync('ip', ['netns', 'exec', netns, 'sysctl', '-q', '-w', 'net.ipv4.ip_unprivileged_port_start=0']).status, 0);
  daemon = spawn('ip', ['netns', 'exec', netns, process.execPath, moatJs, 'root', 'run', '--root', root, '--', '/moat', 'finger', '--listen', '127.0.0.1:79', '--homes', '/home'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  daemon.stderr?.on('data', (c: Buffer) => (log += c.toString()));
  daemon.stdout?.on('data', (c: Buffer) => (log += c.toString()));
  let answer = '';
  for (let i = 0; i < 100; i++) {
    const r = spawnSync('ip', ['netns', 'exec', netns, 'finger', '-l', 'alice@127.0.0.1'], { encoding: 'utf8', timeout: 10_000 });
    answer = r.stdout;
    if (answer.includes('Alice plans')) break;
    await sleep(100);
  }
  assert.match(answer, /Alice plans to build OS-less jails\./, `finger said: ${answer}\ndaemon said: ${log}`);
  // It runs as nobody, from the root. The command name is not checked: Node 24
  // names its main thread "MainThread", so comm is no longer the file name.
  const ps = spawnSync('ps', ['-eo', 'uid,args'], { encoding: 'utf8' }).stdout;
  assert.match(ps, /^\s*65534 \/moat finger --listen 127\.0\.0\.1:79/m, ps);
});

it('the SEA confines moat finger with the native addon beside it, and without it fails with EX_UNAVAILABLE', { timeout: 60_000 }, async (t) => {
  if (!needs(t, { root: isRoot, 'the native addon (npm run build:native)': loadNative() !== undefined })) return;
  // The executable the first test built; built here if that one skipped part-way.
  const exe = join(work === '' ? (work = mkdtempSync(join('/var/tmp', 'moat-sea-'))) : work, 'moat');
  if (!existsSync(exe)) await buildSea({ entry: moatJs, out: exe });
  const dir = mkdtempSync(join(work, 'chroot-'));
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'home', 'alice'), { recursive: true });
  writeFileSync(join(dir, 'home', 'alice', '.plan'), 'Alice confined by the single executable.\n');
  chmodSync(work, 0o755);
  const args = ['finger', '--chroot', dir, '--homes', '/home', '--run-as-user', '65534:65534'];
  const env = { ...process.env, MOAT_NATIVE: '' };
  // No addon beside the executable: a clear refusal naming the build step.
  rmSync(join(work, 'moat-native.node'), { force: true });
  const refused = spawnSync(exe, [...args, '--listen', '127.0.0.1:0'], { encoding: 'utf8', env, timeout: 20_000 });
  assert.equal(refused.status, EX_UNAVAILABLE, refused.stderr);
  assert.ok(refused.stderr.includes(`${join(work, 'moat-native.node')}: `), refused.stderr);
  // Beside it: loaded before the chroot, from the executable's directory.
  copyFileSync(join(repoRoot, 'dist', 'native', 'moat-native.node'), join(work, 'moat-native.node'));
  const port = await freePort();
  const child = spawn(exe, [...args, '--listen', `127.0.0.1:${String(port)}`], { stdio: ['ignore', 'ignore', 'pipe'], env });
  try {
    let log = '';
    child.stderr.on('data', (c: Buffer) => (log += c.toString()));
    for (let i = 0; i < 100 && !log.includes('listening'); i++) await sleep(50);
    assert.match(log, /listening .*confined="--chroot /, log);
    const reply = await new Promise<string>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port }, () => s.end('alice\r\n'));
      let text = '';
      s.on('data', (c: Buffer) => (text += c.toString()));
      s.on('end', () => {
        resolve(text);
      });
      s.on('error', reject);
    });
    assert.match(reply, /Alice confined by the single executable\./);
    assert.equal(readlinkSync(`/proc/${String(child.pid)}/root`), dir);
  } finally {
    child.kill('SIGTERM');
  }
});
