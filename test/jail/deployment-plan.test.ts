import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSpec } from '../../src/core/spec-loader.js';
import { jailSpecSchema, planDeployment, renderDeployment } from '../../src/jail/index.js';

const BASE = 'service: echod\nbinary: /bin/echod\ninstall: /build/echod\nrunAs: "1001:1001"\naddress: 192.0.2.7\nport: 7\n';

function render(extra: string): Record<string, string> {
  const plan = planDeployment(parseSpec(jailSpecSchema, BASE + extra, 'spec.yaml'));
  return Object.fromEntries(renderDeployment(plan, ['freebsd', 'linux']).map((f) => [f.path, f.content]));
}

test('defaults: the jail lives under zfs.mountpoint, the rc.d script in the standard place', () => {
  const plan = planDeployment(parseSpec(jailSpecSchema, BASE, 'spec.yaml'));
  assert.equal(plan.jail, 'echod');
  assert.equal(plan.root, '/jails/echod');
  assert.deepEqual(plan.datasets, { jails: 'zroot/jails', jail: 'zroot/jails/echod', logs: 'zroot/logs', log: 'zroot/logs/echod' });
  assert.deepEqual(plan.jailDirs, ['/bin', '/log']);
  const files = render('');
  assert.doesNotMatch(files['freebsd/rc.conf'] ?? '', /local_startup|extra_netfs_types/);
  assert.match(files['freebsd/rc.conf'] ?? '', /^echod_enable="YES"$/m);
  assert.match(files['freebsd/fstab'] ?? '', /no mounts/);
  assert.doesNotMatch(files['freebsd/zfs-setup.sh'] ?? '', /mountpoint=\/jails\/echod /);
});

test('a root outside zfs.mountpoint gets its own mountpoint', () => {
  const files = render('root: /srv/jails/echo\nzfs:\n  pool: tank\n  jails: j\n  logs: l\n');
  const setup = files['freebsd/zfs-setup.sh'] ?? '';
  assert.match(setup, /^zfs create -o setuid=off -o utf8only=on -o atime=off -o devices=off -o mountpoint=\/srv\/jails\/echo tank\/j\/echod$/m);
  assert.match(setup, /^zfs create -o mountpoint=\/srv\/jails\/echo\/log tank\/l\/echod$/m);
  assert.match(files['freebsd/jail.conf'] ?? '', /^\tpath = "\/srv\/jails\/echo";$/m);
  assert.match(files['linux/echod.service'] ?? '', /^RootDirectory=\/srv\/jails\/echo$/m);
});

test('an IPv6 address uses ip6.addr in jail.conf and brackets in the socket unit', () => {
  const files = render('linux:\n  socketActivation: true\n');
  assert.match(files['linux/echod.socket'] ?? '', /^ListenStream=192\.0\.2\.7:7$/m);
  const v6 = planDeployment(parseSpec(jailSpecSchema, BASE.replace('192.0.2.7', '"2001:db8::7"') + 'linux:\n  socketActivation: true\n', 'spec.yaml'));
  const out = Object.fromEntries(renderDeployment(v6, ['freebsd', 'linux']).map((f) => [f.path, f.content]));
  assert.match(out['freebsd/jail.conf'] ?? '', /^\tip6\.addr = 2001:db8::7;$/m);
  assert.match(out['linux/echod.socket'] ?? '', /^ListenStream=\[2001:db8::7\]:7$/m);
});

test('a port of 1024 or above needs no capability, so the unit also gets PrivateUsers=', () => {
  const unit = render('')['linux/echod.service'] ?? '';
  assert.match(unit, /^CapabilityBoundingSet=CAP_NET_BIND_SERVICE$/m);
  const high = planDeployment(parseSpec(jailSpecSchema, BASE.replace('port: 7', 'port: 7007'), 'spec.yaml'));
  const text = renderDeployment(high, ['linux'])[0]?.content ?? '';
  assert.match(text, /^CapabilityBoundingSet=$/m);
  assert.match(text, /^PrivateUsers=yes$/m);
  assert.match(text, /^SocketBindAllow=tcp:7007$/m);
});
