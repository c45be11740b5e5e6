import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { linkWordToState, parseIfconfig, parseRouteMonitorLine } from '../../src/ifstated/bsd-link-monitor.js';
import { operstateToLink, parseIpMonitorLine } from '../../src/ifstated/linux-link-monitor.js';
import { fixture } from '../helpers/system.js';

const lines = (name: string): string[] => readFileSync(fixture('ifstated', name), 'utf8').split('\n');

test('ip -o monitor link: @peer stripped, operstate read, Deleted seen', () => {
  assert.deepEqual(parseIpMonitorLine('7: veth0@if6: <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> mtu 1500 qdisc noqueue state LOWERLAYERDOWN mode DEFAULT group default \\    link/ether 5a:1b:00:00:00:01 brd ff:ff:ff:ff:ff:ff link-netns x'), {
    deleted: false,
    ifindex: 7,
    ifname: 'veth0',
    operstate: 'LOWERLAYERDOWN',
  });
  assert.deepEqual(parseIpMonitorLine('Deleted 7: veth0@if6: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default'), {
    deleted: true,
    ifindex: 7,
    ifname: 'veth0',
    operstate: 'DOWN',
  });
  // Flags say UP, but the operstate is what counts.
  assert.equal(operstateToLink(parseIpMonitorLine('2: eth0: <BROADCAST,MULTICAST,UP> mtu 1500 state DORMANT')?.operstate ?? ''), 'down');
  assert.equal(operstateToLink('UNKNOWN'), 'unknown');
  assert.equal(operstateToLink('up\n'), 'up');
  assert.equal(parseIpMonitorLine('    link/ether 00:11:22:33:44:55'), undefined);
});

test('FreeBSD route -n monitor: RTM_IFINFO without a name, RTM_IFANNOUNCE', () => {
  const msgs = lines('freebsd-route-monitor.txt').map(parseRouteMonitorLine).filter((m) => m !== undefined);
  assert.deepEqual(msgs, [
    { type: 'RTM_IFINFO', ifindex: 1, state: 'down' },
    { type: 'RTM_IFINFO', ifindex: 1, state: 'up' },
    { type: 'RTM_IFANNOUNCE', ifindex: 5, what: 'departure' },
  ]);
});

test('OpenBSD route -n monitor: names and link words', () => {
  const msgs = lines('openbsd-route-monitor.txt').map(parseRouteMonitorLine).filter((m) => m !== undefined);
  assert.deepEqual(msgs, [
    { type: 'RTM_IFINFO', ifindex: 1, ifname: 'em0', state: 'down' },
    { type: 'RTM_IFINFO', ifindex: 1, ifname: 'em0', state: 'up' },
    { type: 'RTM_IFINFO', ifindex: 3, ifname: 'vio1', state: 'up' },
    { type: 'RTM_IFANNOUNCE', ifindex: 7, ifname: 'vlan5', what: 'departure' },
  ]);
});

test('ifconfig: status lines, and no status means unknown', () => {
  const fb = parseIfconfig(readFileSync(fixture('ifstated', 'freebsd-ifconfig.txt'), 'utf8'));
  assert.deepEqual(fb.map((e) => [e.name, e.state]), [['em0', 'up'], ['em1', 'down'], ['lo0', 'unknown']]);
  const ob = parseIfconfig(readFileSync(fixture('ifstated', 'openbsd-ifconfig.txt'), 'utf8'));
  assert.deepEqual(ob.map((e) => [e.name, e.index, e.state]), [['lo0', 3, 'unknown'], ['vr0', 1, 'up'], ['vr2', 2, 'down'], ['carp0', 9, 'down']]);
  assert.equal(linkWordToState('master'), 'up');
});
