import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { haveNetns, needs } from '../helpers/system.js';
import { delNetns, descendants, fdCount, ip, newNetns, sleep, startDaemon, vethPair, waitForFile, type RunningDaemon } from './netns-lib.js';

const canNetns = haveNetns();

interface World {
  a: string;
  b: string;
  dir: string;
  conf: string;
  daemon?: RunningDaemon;
}

async function withWorld(config: (dir: string) => string, body: (w: World) => Promise<void>, args: string[] = []): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'moat-ifs-'));
  const a = newNetns();
  let b = '';
  const w: World = { a, b, dir, conf: join(dir, 'ifstated.conf') };
  try {
    b = newNetns();
    w.b = b;
    vethPair(a, b);
    writeFileSync(w.conf, config(dir));
    w.daemon = startDaemon(a, ['-f', w.conf, ...args]);
    await body(w);
  } finally {
    await w.daemon?.stop();
    delNetns(a);
    if (b !== '') delNetns(b);
    rmSync(dir, { recursive: true, force: true });
  }
}

const linkConfig = (dir: string): string => `
state working {
	init run "touch ${dir}/working"
	if wan0.link.down
		set-state broken
}
state broken {
	init run "touch ${dir}/broken"
	if wan0.link.up
		set-state working
}
`;

test('link down, then up: the state changes and run executes', { timeout: 60_000 }, async (t) => {
  if (!needs(t, { 'root and network namespaces': canNetns })) return;
  await withWorld(linkConfig, async (w) => {
    await waitForFile(join(w.dir, 'working'));
    rmSync(join(w.dir, 'working'));
    ip('-n', w.b, 'link', 'set', 'isp0', 'down');
    await waitForFile(join(w.dir, 'broken'));
    ip('-n', w.b, 'link', 'set', 'isp0', 'up');
    await waitForFile(join(w.dir, 'working'));
    await w.daemon?.waitFor(/changing state to broken[\s\S]*changing state to working/);
    // SIGUSR1: the status line names the state and the link.
    w.daemon?.child.kill('SIGUSR1');
    await w.daemon?.waitFor(/moat ifstated\[\d+\]: state working; links wan0=up; tests \(none\)/);
  });
});

test('an external ping test flips when the peer link is cut', { timeout: 60_000 }, async (t) => {
  if (!needs(t, { 'root and network namespaces': canNetns })) return;
  const conf = (dir: string): string => `
peer = '( "ping -c 1 -W 1 10.77.0.2" every 1 )'
state reachable {
	init run "touch ${dir}/reachable"
	if ! $peer
		set-state unreachable
}
state unreachable {
	init run "touch ${dir}/unreachable"
	if $peer
		set-state reachable
}
`;
  await withWorld(conf, async (w) => {
    await waitForFile(join(w.dir, 'reachable'));
    rmSync(join(w.dir, 'reachable'));
    ip('-n', w.b, 'link', 'set', 'isp0', 'down');
    await waitForFile(join(w.dir, 'unreachable'));
    ip('-n', w.b, 'link', 'set', 'isp0', 'up');
    await waitForFile(join(w.dir, 'reachable'), 20_000);
  });
});

test('500 flaps leak no file descriptors or processes', { timeout: 120_000 }, async (t) => {
  if (!needs(t, { 'root and network namespaces': canNetns })) return;
  await withWorld(
    (dir) => linkConfig(dir).replace(/touch [^"]*\/working/, 'true').replace(/touch [^"]*\/broken/, 'true') + `if wan0.link.up\n\trun "touch ${dir}/up"\n`,
    async (w) => {
      const d = w.daemon;
      assert.ok(d);
      await waitForFile(join(w.dir, 'up'));
      await sleep(300);
      const fds = fdCount(d.pid);
      const kids = descendants(d.pid).length;
      // The watched end itself, administratively: each change is reported at
      // once (a carrier change would be batched by the kernel's link watch).
      for (let i = 0; i < 500; i++) {
        ip('-n', w.a, 'link', 'set', 'wan0', 'down');
        ip('-n', w.a, 'link', 'set', 'wan0', 'up');
      }
      // The run queue may still be draining (up to 256 queued commands): a
      // leak is a count that stays up, so wait for it to come back down.
      const settled = (): boolean => fdCount(d.pid) <= fds + 2 && descendants(d.pid).length <= kids;
      const until = Date.now() + 60_000;
      while (Date.now() < until) {
        if (settled()) {
          await sleep(1000);
          if (settled()) break;
        }
        await sleep(200);
      }
      assert.equal(d.child.exitCode, null, 'daemon still running');
      assert.ok(fdCount(d.pid) <= fds + 2, `fds ${String(fds)} -> ${String(fdCount(d.pid))}`);
      assert.ok(descendants(d.pid).length <= kids, `children ${String(kids)} -> ${String(descendants(d.pid).length)}`);
      await d.waitFor(/changing state to broken/);
    },
  );
});

test('SIGHUP with a broken config keeps the daemon running the old one', { timeout: 60_000 }, async (t) => {
  if (!needs(t, { 'root and network namespaces': canNetns })) return;
  await withWorld(linkConfig, async (w) => {
    const d = w.daemon;
    assert.ok(d);
    await waitForFile(join(w.dir, 'working'));
    writeFileSync(w.conf, 'state oops {\n\tset-state all working\n}\n');
    d.child.kill('SIGHUP');
    await d.waitFor(/reload failed, keeping the old configuration/);
    assert.match(d.stderr(), /ifstated\.conf:2:\d+: syntax error/);
    ip('-n', w.b, 'link', 'set', 'isp0', 'down');
    await waitForFile(join(w.dir, 'broken'));
    assert.equal(d.child.exitCode, null);
  });
});

test('a hung test is killed at its timeout', { timeout: 60_000 }, async (t) => {
  if (!needs(t, { 'root and network namespaces': canNetns })) return;
  await withWorld(
    () => 'state waiting {\n\tif "sleep 1000" every 1\n\t\trun "true"\n}\n',
    async (w) => {
      const d = w.daemon;
      assert.ok(d);
      await d.waitFor(/test failed \(timed out after 1s/);
      await d.waitFor(/test failed \(timed out after 1s[\s\S]*test failed \(timed out after 1s/);
      // ip monitor plus at most one sleep at any time.
      const sleeps = descendants(d.pid).filter((p) => {
        try {
          return readComm(p) === 'sleep';
        } catch {
          return false;
        }
      });
      assert.ok(sleeps.length <= 1, `sleep processes: ${String(sleeps.length)}`);
    },
  );
});

function readComm(pid: number): string {
  return readFileSync(`/proc/${String(pid)}/comm`, 'utf8').trim();
}

