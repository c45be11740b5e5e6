// The built CLI started as root: it must bind, then drop to the user asked
// for, and /proc must agree that uid, gid and supplementary groups changed.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { haveCommand, isRoot, needs } from '../helpers/system.js';
import { makeHomes, moatBin, rawQuery, sleep, type Homes } from './finger-fixture.js';

interface Running {
  child: ChildProcess;
  port: number;
  stderr: () => string;
  exit: Promise<number | null>;
}

/** Start the CLI and wait for its "listening" line. */
async function startCli(args: string[]): Promise<Running> {
  const child = spawn(process.execPath, [moatBin, 'finger', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => { resolve(code); }));
  for (let i = 0; i < 200; i++) {
    const m = / on=127\.0\.0\.1:(\d+)/.exec(err);
    if (m) return { child, port: Number(m[1]), stderr: () => err, exit };
    if (child.exitCode !== null) break;
    await sleep(25);
  }
  child.kill('SIGKILL');
  throw new Error(`moat finger did not start: ${err}`);
}

function procStatus(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(`/proc/${String(pid)}/status`, 'utf8').split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

describe('moat finger privilege drop (built CLI, as root)', () => {
  let homes: Homes | undefined;
  const children: ChildProcess[] = [];
  after(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    homes?.cleanup();
  });
  const setup = (): Homes => {
    homes ??= makeHomes(true);
    // mkdtemp makes 0700; nobody must be able to reach the homes.
    chmodSync(homes.dir, 0o755);
    return homes;
  };

  it('drops to nobody: uid, gid and groups from /proc/PID/status, and still serves', async (t) => {
    if (!needs(t, { root: isRoot, '/proc': existsSync('/proc/self/status') })) return;
    const h = setup();
    const r = await startCli(['--listen', '127.0.0.1:0', '--homes', h.dir, '--run-as-user', 'nobody']);
    children.push(r.child);
    const st = procStatus(r.child.pid ?? 0);
    assert.equal(st.Uid, '65534\t65534\t65534\t65534');
    assert.equal(st.Gid, '65534\t65534\t65534\t65534');
    assert.equal(st.Groups, '');
    assert.match((await rawQuery(r.port, 'alice\r\n')).data, /^Login: alice\r\nProject: moat\r\n/);
    r.child.kill('SIGTERM');
    assert.equal(await r.exit, 0);
  });

  it("takes the seed's Go-style flags, writes the pidfile, reloads on SIGHUP, reports on SIGUSR1", async (t) => {
    if (!needs(t, { root: isRoot, '/proc': existsSync('/proc/self/status') })) return;
    const h = setup();
    const run = join(h.dir, 'run');
    mkdirSync(run);
    chownSync(run, 65534, 65534);
    const pidfile = join(run, 'fingerd.pid');
    const conf = join(h.dir, 'finger.conf');
    writeFileSync(conf, 'first:alice\n');
    const r = await startCli(['-listen', '127.0.0.1:0', '--homes', h.dir, '--aliases', conf, '-run-as-user', '65534:65534', `-pidfile=${pidfile}`]);
    children.push(r.child);
    assert.equal(procStatus(r.child.pid ?? 0).Uid, '65534\t65534\t65534\t65534');
    assert.equal(readFileSync(pidfile, 'utf8'), `${String(r.child.pid)}\n`);
    assert.match((await rawQuery(r.port, 'first\r\n')).data, /^Login: alice/);
    const reloads = (): number => r.stderr().split('reloaded').length - 1;
    const before = reloads();
    writeFileSync(conf, 'second:alice\n');
    r.child.kill('SIGHUP');
    for (let i = 0; i < 100 && reloads() === before; i++) await sleep(20);
    assert.match((await rawQuery(r.port, 'second\r\n')).data, /^Login: alice/);
    assert.match((await rawQuery(r.port, 'first\r\n')).data, /no such user/);
    r.child.kill('SIGUSR1');
    for (let i = 0; i < 100 && !r.stderr().includes('served,'); i++) await sleep(20);
    // The last client may still be closing on the server side: any open count.
    assert.match(r.stderr(), /moat finger\[\d+\]: \d+ open, \d+ served, 0 refused/);
    r.child.kill('SIGTERM');
    assert.equal(await r.exit, 0);
    assert.equal(existsSync(pidfile), false, 'the pidfile is removed on exit');
  });

  it('refuses to serve as root without --run-as-user or --allow-root', async (t) => {
    if (!needs(t, { root: isRoot, node: haveCommand(process.execPath) })) return;
    const h = setup();
    const child = spawn(process.execPath, [moatBin, 'finger', '--listen', '127.0.0.1:0', '--homes', h.dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(child);
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 78);
    assert.match(err, /^moat finger: refusing to serve as root/);
  });
});
