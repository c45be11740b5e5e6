import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { Logger, UsageError } from '../../src/core/index.js';
import { main } from '../../src/ifstated/cli.js';
import { Daemon } from '../../src/ifstated/daemon.js';
import { captureIo } from '../helpers/io.js';
import { freePort, startRsyslog } from '../helpers/rsyslog.js';
import { moatBin } from './netns-lib.js';
import { haveCommand, needs } from '../helpers/system.js';

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8')));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

test('metrics, status line and JSON transition logs from a running daemon', { timeout: 30_000 }, async (t) => {
  if (!needs(t, { ip: haveCommand('ip'), linux: process.platform === 'linux' })) return;
  const dir = mkdtempSync(join(tmpdir(), 'moat-ifs-d-'));
  const logs = new PassThrough();
  let text = '';
  logs.on('data', (c: Buffer) => (text += c.toString('utf8')));
  const conf = join(dir, 'ifstated.conf');
  writeFileSync(conf, 'state start {\n\tif lo.link.up\n\t\tset-state looping\n}\nstate looping {\n\tif "true" every 1\n\t\trun "true"\n}\n');
  const port = await freePort();
  const d = new Daemon({
    file: conf,
    defines: {},
    strict: false,
    inhibit: false,
    verbose: 0,
    logger: new Logger({ appName: 'ifstated', stderr: logs, format: 'json' }),
    runTimeoutMs: 5000,
    reconcileMs: 30_000,
    monitor: 'linux',
    metrics: { host: '127.0.0.1', port },
  });
  try {
    assert.equal(await d.start(), true);
    assert.equal(d.state, 'looping');
    const until = Date.now() + 10_000;
    while (!/ifstated_test_ok\{command="true"[^}]*\} 1/.test((await get(port, '/metrics')).body) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    const m = await get(port, '/metrics');
    assert.equal(m.status, 200);
    assert.match(m.body, /^ifstated_state\{state="looping"\} 1$/m);
    assert.match(m.body, /^ifstated_state\{state="start"\} 0$/m);
    assert.match(m.body, /^ifstated_link_up\{interface="lo"\} -1$/m); // lo's operstate is "unknown"
    assert.match(m.body, /^ifstated_test_ok\{command="true",interval="1",scope="looping"\} 1$/m);
    assert.match(m.body, /^ifstated_transitions_total 2$/m);
    assert.equal((await get(port, '/other')).status, 404);
    assert.match(d.describe(), /^state looping; links lo=unknown; tests "true" every 1=ok \d+ms/);
    const line = text.split('\n').find((l) => l.includes('changing state to looping'));
    assert.ok(line, text);
    const rec = JSON.parse(line) as Record<string, unknown>;
    assert.equal(rec.from, 'start');
    assert.equal(rec.to, 'looping');
  } finally {
    await d.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('usage: unknown option, unknown subcommand, bad -D, --help fits a screen', async () => {
  await assert.rejects(main(['--bogus'], captureIo()), /unknown option '--bogus'/);
  // The same words as every tool that uses core's dispatcher.
  await assert.rejects(main(['frobnicate'], captureIo()), (e: unknown) => e instanceof UsageError && e.message === "moat ifstated: unknown command 'frobnicate'" && e.hint === "try 'moat ifstated --help'");
  await assert.rejects(main(['-n', '-D', 'novalue'], captureIo()), /could not parse macro definition novalue/);
  const io = captureIo();
  assert.equal(await main(['--help'], io), 0);
  assert.ok(io.out().split('\n').length <= 24);
  const h = captureIo();
  assert.equal(await main(['help'], h), 0);
  assert.equal(h.out(), io.out());
});

test('a missing config file is a clear error', async () => {
  await assert.rejects(main(['-n', '-f', '/nonexistent/ifstated.conf'], captureIo()), /cannot read \/nonexistent\/ifstated.conf: No such file or directory \(ENOENT\)/);
});

test('transitions reach a real rsyslogd', { timeout: 30_000 }, async (t) => {
  if (!needs(t, { rsyslogd: haveCommand('rsyslogd'), ip: haveCommand('ip'), linux: process.platform === 'linux' })) return;
  const syslog = await startRsyslog();
  const dir = mkdtempSync(join(tmpdir(), 'moat-ifs-s-'));
  const conf = join(dir, 'ifstated.conf');
  writeFileSync(conf, 'state first {\n\tif lo.link.up\n\t\tset-state second\n}\nstate second {\n\trun "true"\n}\n');
  const logger = new Logger({ appName: 'ifstated', syslog: `tcp://127.0.0.1:${String(syslog.tcpPort)}` });
  const d = new Daemon({ file: conf, defines: {}, strict: false, inhibit: false, verbose: 0, logger, runTimeoutMs: 5000, reconcileMs: 30_000, monitor: 'linux' });
  try {
    assert.equal(await d.start(), true);
    const line = await syslog.waitFor(/changing state to second/);
    assert.match(line, /\|ifstated\|/);
    assert.match(line, /from="first"/);
  } finally {
    await d.stop();
    await logger.close();
    await syslog.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the CLI daemon: --log-syslog as in finger, SIGHUP reloads, SIGTERM exits 0', { timeout: 30_000 }, async (t) => {
  if (!needs(t, { rsyslogd: haveCommand('rsyslogd'), ip: haveCommand('ip'), linux: process.platform === 'linux' })) return;
  const syslog = await startRsyslog();
  const dir = mkdtempSync(join(tmpdir(), 'moat-ifs-cli-'));
  const conf = join(dir, 'ifstated.conf');
  writeFileSync(conf, 'state first {\n\tif lo.link.up\n\t\tset-state second\n}\nstate second {\n\trun "true"\n}\n');
  const child = spawn(process.execPath, [moatBin, 'ifstated', '-f', conf, '--log-syslog', `tcp://127.0.0.1:${String(syslog.tcpPort)}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => {
    resolve(code);
  }));
  try {
    assert.match(await syslog.waitFor(/changing state to second/), /\|ifstated\|/);
    // The handlers are the CLI's: the daemon re-reads its file on SIGHUP.
    writeFileSync(conf, 'state only {\n\trun "true"\n}\n');
    child.kill('SIGHUP');
    assert.match(await syslog.waitFor(/reloaded; state only/), /\|ifstated\|/);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, err);
    assert.match(await syslog.waitFor(/exiting on SIGTERM/), /\|ifstated\|/);
  } finally {
    child.kill('SIGKILL');
    await syslog.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Daemon.start changes no process state: no signal handlers', { timeout: 30_000 }, async (t) => {
  if (!needs(t, { ip: haveCommand('ip'), linux: process.platform === 'linux' })) return;
  const dir = mkdtempSync(join(tmpdir(), 'moat-ifs-h-'));
  const conf = join(dir, 'ifstated.conf');
  writeFileSync(conf, 'state only {\n\trun "true"\n}\n');
  const signals = ['SIGHUP', 'SIGUSR1', 'SIGTERM', 'SIGINT'] as const;
  const before = signals.map((s) => process.listenerCount(s));
  const d = new Daemon({ file: conf, defines: {}, strict: false, inhibit: false, verbose: 0, logger: new Logger({ appName: 'ifstated', stderr: new PassThrough() }), runTimeoutMs: 5000, reconcileMs: 30_000, monitor: 'linux' });
  try {
    assert.equal(await d.start(), true);
    assert.deepEqual(signals.map((s) => process.listenerCount(s)), before);
  } finally {
    await d.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
