import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadNative } from '../../src/core/index.js';
import { Spawner, type SpawnerMode, type SpawnerOptions } from '../../src/ifstated/spawner.js';
import { haveCommand, needs } from '../helpers/system.js';

const havePerl = haveCommand('perl');
const haveAddon = loadNative() !== undefined;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function alive(pid: string | number): boolean {
  const p = `/proc/${String(pid)}/stat`;
  if (!existsSync(p)) return false;
  return readFileSync(p, 'utf8').split(' ')[2] !== 'Z';
}

async function waitFor(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await sleep(10);
}

// The same results whether tests are started with posix_spawn (the native
// addon), through the perl helper, or directly.
const MODES: readonly { mode: SpawnerMode; options: SpawnerOptions; has: Record<string, boolean> }[] = [
  { mode: 'posix_spawn', options: {}, has: { 'the native addon (npm run build:native)': haveAddon } },
  { mode: 'helper', options: { native: false }, has: { perl: havePerl } },
  { mode: 'direct', options: { native: false, perl: false }, has: {} },
];

for (const { mode, options, has } of MODES) {

  test(`spawner (${mode}): exit status, a missing command, shell syntax`, async (t) => {
    if (!needs(t, has)) return;
    const s = new Spawner(options);
    try {
      assert.equal(s.mode, mode);
      const [ok, three, missing, shell] = await Promise.all([
        s.run('true', 5000).done,
        s.run('/bin/sh -c "exit 3"', 5000).done,
        s.run('/nonexistent/moat-no-such-command', 5000).done,
        s.run('test "a b" = "a b" && exit 4', 5000).done,
      ]);
      assert.equal(ok.code, 0);
      assert.equal(ok.timedOut, false);
      assert.equal(three.code, 3);
      // A command that does not exist: exit 127, as under sh(1), and why.
      assert.equal(missing.code, 127);
      assert.match(missing.spawnError ?? '', /ENOENT|No such file/);
      assert.equal(shell.code, 4);
    } finally {
      s.close();
    }
  });

  test(`spawner (${mode}): a hung command is killed at its timeout, with what it started`, async (t) => {
    if (!needs(t, has)) return;
    const dir = mkdtempSync(join(tmpdir(), 'moat-ifs-sp-'));
    const s = new Spawner(options);
    try {
      const pidFile = join(dir, 'pid');
      const r = await s.run(`sleep 30 & echo $! > ${pidFile}; sleep 30; wait`, 300).done;
      assert.equal(r.timedOut, true);
      assert.equal(r.code, undefined);
      assert.equal(r.signal, 'SIGKILL');
      const pid = readFileSync(pidFile, 'utf8').trim();
      await waitFor(() => !alive(pid));
      assert.equal(alive(pid), false, 'the background sleep was killed with its group');
    } finally {
      s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`spawner (${mode}): kill() and close() stop running commands`, async (t) => {
    if (!needs(t, has)) return;
    const s = new Spawner(options);
    const a = s.run('sleep 30', 60_000);
    const killed = await (async () => {
      await waitFor(() => a.pid !== undefined);
      a.kill();
      return a.done;
    })();
    assert.equal(killed.signal, 'SIGKILL');
    assert.equal(killed.timedOut, false);
    const b = s.run('sleep 31', 60_000);
    await waitFor(() => b.pid !== undefined);
    const pid = b.pid;
    assert.notEqual(pid, undefined);
    s.close();
    await b.done;
    await waitFor(() => !alive(pid ?? 0));
    assert.equal(alive(pid ?? 0), false);
    // After close() a new run still works (a new helper is started).
    assert.equal((await s.run('true', 5000).done).code, 0);
    s.close();
  });
}

test('spawner: when the helper dies, its commands are killed and reported, and the next run works', async (t) => {
  if (!needs(t, { perl: havePerl })) return;
  const s = new Spawner({ native: false });
  try {
    const r = s.run('sleep 32', 60_000);
    await waitFor(() => r.pid !== undefined && s.helperPid !== undefined);
    const helper = s.helperPid ?? 0;
    const pid = r.pid ?? 0;
    process.kill(helper, 'SIGKILL');
    const res = await r.done;
    assert.equal(res.spawnError, 'the test spawner exited');
    await waitFor(() => !alive(pid));
    assert.equal(alive(pid), false, 'the orphaned command was killed');
    assert.equal((await s.run('true', 5000).done).code, 0);
    assert.equal(s.mode, 'helper');
  } finally {
    s.close();
  }
});

test('spawner: a perl that cannot start means commands are started directly', async () => {
  const s = new Spawner({ native: false, perl: '/nonexistent/perl' });
  try {
    for (let i = 0; i < 3; i++) {
      const r = await s.run('true', 5000).done;
      assert.notEqual(r.spawnError, undefined);
    }
    assert.equal(s.mode, 'direct');
    assert.equal((await s.run('true', 5000).done).code, 0);
  } finally {
    s.close();
  }
});
