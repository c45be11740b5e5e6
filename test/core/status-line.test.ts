import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { statusLine, statusSignals } from '../../src/core/index.js';

test('statusLine names the command, pid, activity, CPU times and RSS', () => {
  const line = statusLine('moat test', 'idle');
  assert.match(line, new RegExp(`^moat test\\[${String(process.pid)}\\]: idle; \\d+\\.\\d\\du \\d+\\.\\d\\ds \\d+\\.\\dMB rss\\n$`));
});

test('SIGUSR1 is always among the status signals', () => {
  assert.ok(statusSignals().includes('SIGUSR1'));
});

test('a process with the status line installed answers SIGUSR1 with one line and keeps running', async () => {
  // The compiled core beside this compiled test (dist/ or dist-NAME/).
  const core = fileURLToPath(new URL('../../src/core/index.js', import.meta.url));
  const script = `
    import { installStatusLine } from ${JSON.stringify(core)};
    let n = 0;
    installStatusLine({ command: 'moat demo', describe: () => 'working on item ' + (++n) });
    process.stdout.write('ready\\n');
    setTimeout(() => {}, 20000);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const waitFor = async (pred: () => boolean): Promise<void> => {
    const until = Date.now() + 10000;
    while (!pred()) {
      if (Date.now() > until) throw new Error(`timed out; stderr: ${err}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  try {
    await waitFor(() => out.includes('ready'));
    child.kill('SIGUSR1');
    await waitFor(() => err.includes('\n'));
    child.kill('SIGUSR1');
    await waitFor(() => err.split('\n').length >= 3);
    const lines = err.trim().split('\n');
    assert.match(lines[0] ?? '', new RegExp(`^moat demo\\[${String(child.pid)}\\]: working on item 1; [\\d.]+u [\\d.]+s [\\d.]+MB rss$`));
    assert.match(lines[1] ?? '', /working on item 2;/);
    assert.equal(child.exitCode, null, 'still running after the signals');
  } finally {
    child.kill('SIGTERM');
  }
});
