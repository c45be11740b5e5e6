import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BsdLinkMonitor } from '../../src/ifstated/bsd-link-monitor.js';
import type { LinkEvent } from '../../src/ifstated/link-monitor.js';
import { LinuxLinkMonitor } from '../../src/ifstated/linux-link-monitor.js';
import { fixture } from '../helpers/system.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await sleep(20);
  }
}

function script(dir: string, name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

test('Linux monitor: snapshot, @peer, rename by ifindex, delete, respawn', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'moat-ifs-lm-'));
  const sys = join(dir, 'sys');
  for (const [name, idx, oper] of [['eth0', 2, 'up'], ['veth0', 7, 'lowerlayerdown']] as const) {
    mkdirSync(join(sys, name), { recursive: true });
    writeFileSync(join(sys, name, 'ifindex'), `${String(idx)}\n`);
    writeFileSync(join(sys, name, 'operstate'), `${oper}\n`);
  }
  // A fake `ip -o monitor link`: a few lines, then it exits (and is respawned).
  const ip = script(
    dir,
    'ip',
    `while [ ! -e '${join(dir, 'go')}' ]; do sleep 0.05; done
rm -f '${join(dir, 'go')}'
echo '7: veth0@if6: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default'
echo '2: wan0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP mode DEFAULT group default'
echo 'Deleted 7: veth0@if6: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default'`,
  );
  const events: LinkEvent[] = [];
  const errors: string[] = [];
  const m = new LinuxLinkMonitor({ onLink: (e) => events.push(e), onError: (e) => errors.push(e), sysfs: sys, ipCommand: ip, reconcileMs: 60_000 });
  try {
    await m.start();
    assert.deepEqual(Object.fromEntries(m.snapshot()), { eth0: 'up', veth0: 'down' });
    writeFileSync(join(dir, 'go'), '');
    await until(() => events.some((e) => e.ifname === 'wan0'), 'rename');
    await until(() => m.restarts >= 1, 'respawn');
    // eth0 (index 2) was renamed to wan0; veth0 came up then was deleted.
    assert.deepEqual(events.slice(0, 6), [
      { ifname: 'eth0', state: 'up' },
      { ifname: 'veth0', state: 'down' },
      { ifname: 'veth0', state: 'up' },
      { ifname: 'eth0', state: 'down' },
      { ifname: 'wan0', state: 'up' },
      { ifname: 'veth0', state: 'down' },
    ]);
    assert.ok(errors.some((e) => e.includes('ip monitor exited; restarting it')));
  } finally {
    await m.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Linux monitor: a reconcile that was reading sysfs when a message came does not undo it', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'moat-ifs-lr-'));
  const sys = join(dir, 'sys');
  mkdirSync(join(sys, 'wan0'), { recursive: true });
  writeFileSync(join(sys, 'wan0', 'ifindex'), '2\n');
  const operstate = join(sys, 'wan0', 'operstate');
  writeFileSync(operstate, 'up\n');
  const ip = script(
    dir,
    'ip',
    `while [ ! -e '${join(dir, 'go')}' ]; do sleep 0.05; done
echo '2: wan0: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc fq_codel state DOWN mode DEFAULT group default'
exec sleep 30`,
  );
  const events: LinkEvent[] = [];
  const m = new LinuxLinkMonitor({ onLink: (e) => events.push(e), onError: () => undefined, sysfs: sys, ipCommand: ip, reconcileMs: 60_000 });
  try {
    await m.start();
    assert.deepEqual(events, [{ ifname: 'wan0', state: 'up' }]);
    // A FIFO holds the reconcile's read of operstate open until we write "up"
    // (the value sysfs had when the read began); the link goes down meanwhile.
    rmSync(operstate);
    assert.equal(spawnSync('mkfifo', [operstate]).status, 0);
    const reconciled = m.reconcile();
    writeFileSync(join(dir, 'go'), '');
    await until(() => events.length === 2, 'the down message');
    writeFileSync(operstate, 'up\n');
    await reconciled;
    assert.deepEqual(events, [
      { ifname: 'wan0', state: 'up' },
      { ifname: 'wan0', state: 'down' },
    ]);
    assert.equal(m.snapshot().get('wan0'), 'down');
  } finally {
    await m.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('BSD monitor: ifconfig snapshot and route monitor events (OpenBSD format)', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'moat-ifs-bm-'));
  const ifconfig = script(dir, 'ifconfig', `cat '${fixture('ifstated', 'openbsd-ifconfig.txt')}'`);
  const route = script(dir, 'route', `sleep 0.3; cat '${fixture('ifstated', 'openbsd-route-monitor.txt')}'; exec sleep 30`);
  const events: LinkEvent[] = [];
  const m = new BsdLinkMonitor({ onLink: (e) => events.push(e), onError: () => undefined, routeCommand: route, ifconfigCommand: ifconfig, reconcileMs: 60_000 });
  try {
    await m.start();
    assert.deepEqual(Object.fromEntries(m.snapshot()), { lo0: 'unknown', vr0: 'up', vr2: 'down', carp0: 'down' });
    await until(() => events.some((e) => e.ifname === 'vlan5'), 'route events');
    assert.deepEqual(events.slice(4), [
      { ifname: 'em0', state: 'down' },
      { ifname: 'em0', state: 'up' },
      { ifname: 'vio1', state: 'up' },
      { ifname: 'vlan5', state: 'down' }, // RTM_IFANNOUNCE departure
    ]);
  } finally {
    await m.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('BSD monitor: a failing ifconfig keeps the link states, and says so', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'moat-ifs-bf-'));
  const flag = join(dir, 'fail');
  // Lists the interfaces until `fail` exists, then fails as a busy system might.
  const ifconfig = script(dir, 'ifconfig', `if [ -e '${flag}' ]; then exit 1; fi; cat '${fixture('ifstated', 'openbsd-ifconfig.txt')}'`);
  const route = script(dir, 'route', 'exec sleep 30');
  const events: LinkEvent[] = [];
  const errors: string[] = [];
  const m = new BsdLinkMonitor({ onLink: (e) => events.push(e), onError: (e) => errors.push(e), routeCommand: route, ifconfigCommand: ifconfig, reconcileMs: 60_000 });
  try {
    await m.start();
    const before = Object.fromEntries(m.snapshot());
    assert.equal(before.vr0, 'up');
    const seen = events.length;
    writeFileSync(flag, '');
    await m.reconcile();
    // Not "every interface went away": nothing changes, and the failure is reported.
    assert.deepEqual(Object.fromEntries(m.snapshot()), before);
    assert.equal(events.length, seen);
    assert.ok(errors.some((e) => e.includes('ifconfig failed')), errors.join('\n'));
  } finally {
    await m.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
