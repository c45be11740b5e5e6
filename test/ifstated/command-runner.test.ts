import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { commandArgv, runCommand } from '../../src/ifstated/command-runner.js';

test('plain commands run without a shell; shell syntax gets /bin/sh -c', () => {
  assert.deepEqual(commandArgv('ping -q -c 1 -W 1 10.0.0.1'), ['ping', '-q', '-c', '1', '-W', '1', '10.0.0.1']);
  assert.deepEqual(commandArgv('ping -c 1 host >/dev/null'), ['/bin/sh', '-c', 'ping -c 1 host >/dev/null']);
  assert.deepEqual(commandArgv('echo "a b" | pfctl -f -'), ['/bin/sh', '-c', 'echo "a b" | pfctl -f -']);
  assert.deepEqual(commandArgv('FOO=1 cmd'), ['/bin/sh', '-c', 'FOO=1 cmd']);
  assert.deepEqual(commandArgv('  '), ['/bin/sh', '-c', '  ']);
});

test('exit status and output are reported', async () => {
  const r = await runCommand('/bin/sh -c "echo out; echo err >&2; exit 3"', { timeoutMs: 5000 }).done;
  assert.equal(r.code, 3);
  assert.match(r.output, /out/);
  assert.match(r.output, /err/);
  const ok = await runCommand('true', { timeoutMs: 5000 }).done;
  assert.equal(ok.code, 0);
  const missing = await runCommand('/nonexistent/moat-no-such-command', { timeoutMs: 5000 }).done;
  assert.notEqual(missing.code, 0);
});

test('a hung command is killed at its timeout, with what it started', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'moat-ifs-cr-'));
  try {
    const pidFile = join(dir, 'pid');
    const r = await runCommand(`sleep 30 & echo $! > ${pidFile}; sleep 30; wait`, { timeoutMs: 300 }).done;
    assert.equal(r.timedOut, true);
    assert.equal(r.code, undefined);
    assert.equal(r.signal, 'SIGKILL');
    // The background sleep was in the same process group, so it is gone too.
    const pid = readFileSync(pidFile, 'utf8').trim();
    await new Promise((res) => setTimeout(res, 100));
    const state = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2] : 'gone';
    assert.ok(state === 'gone' || state === 'Z', `background sleep is ${String(state)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('output is bounded', async () => {
  const r = await runCommand('head -c 100000 /dev/zero', { timeoutMs: 5000, maxOutput: 1000 }).done;
  assert.ok(r.output.length <= 1000 + '[truncated]'.length);
  assert.match(r.output, /\[truncated\]$/);
});
