// The daemon with each way of starting tests (posix_spawn through the native
// addon, the perl helper, fork): tests drive the state machine alike, a test
// command that does not exist fails with exit 127 and is logged once.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { Logger, loadNative } from '../../src/core/index.js';
import { Daemon } from '../../src/ifstated/daemon.js';
import type { SpawnerOptions } from '../../src/ifstated/spawner.js';
import { haveCommand, needs } from '../helpers/system.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const MODES: readonly { name: string; spawner: SpawnerOptions; describe: RegExp; has: Record<string, boolean> }[] = [
  { name: 'posix_spawn', spawner: {}, describe: /tests started with posix_spawn/, has: { 'the native addon (npm run build:native)': loadNative() !== undefined } },
  { name: 'perl', spawner: { native: false }, describe: /tests started by helper/, has: { perl: haveCommand('perl') } },
  { name: 'fork', spawner: { native: false, perl: false }, describe: /tests started directly/, has: {} },
];

for (const { name, spawner, describe, has } of MODES) {
  test(`daemon (${name}): tests move the state machine; a missing test command exits 127, logged once`, { timeout: 30_000 }, async (t) => {
    if (!needs(t, { linux: process.platform === 'linux', ...has })) return;
    const dir = mkdtempSync(join(tmpdir(), 'moat-ifs-sp-'));
    const logs = new PassThrough();
    let text = '';
    logs.on('data', (c: Buffer) => (text += c.toString('utf8')));
    const conf = join(dir, 'ifstated.conf');
    // The missing command's test must fail for the machine to move on; in
    // state done it keeps failing, every second, and is not logged again.
    const missing = `"/nonexistent/moat-missing-${String(process.pid)} x" every 1`;
    writeFileSync(conf, `state start {\n\tif ! ${missing}\n\t\tset-state ready\n}\nstate ready {\n\tif "true" every 1\n\t\tset-state done\n}\nstate done {\n\tif ${missing}\n\t\trun "true"\n}\n`);
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
      spawner,
    });
    try {
      assert.equal(await d.start(), true);
      assert.match(d.describe(), describe);
      const until = Date.now() + 10_000;
      while (d.state !== 'done' && Date.now() < until) await sleep(50);
      assert.equal(d.state, 'done', text);
      await sleep(2500);
      const warnings = text
        .split('\n')
        .filter((l) => l.includes('not started'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.equal(warnings.length, 1, text);
      assert.equal(warnings[0]!.level, 'warning');
      assert.match(String(warnings[0]!.msg), /^test not started: .*moat-missing-\d+.*(ENOENT|No such file).*, exit 127$/);
    } finally {
      await d.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
