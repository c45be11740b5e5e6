// Each lint rule has a failing and a passing fixture of hand-written files;
// `moat net check --os X FILES...` must exit 1 naming the rule, file and line
// for the first, and 0 for the second.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyze, main, parseFile, RULES, type RuleId } from '../../src/net/index.js';
import { captureIo } from '../helpers/io.js';
import { fixture } from '../helpers/system.js';

const CASES: Record<RuleId, { os: string; line: number }> = {
  'route-order': { os: 'freebsd', line: 5 },
  'gateway-unreachable': { os: 'openbsd', line: 2 },
  'mac-missing': { os: 'freebsd', line: 2 },
  'mac-duplicate': { os: 'freebsd', line: 1 },
  'ip-shared': { os: 'linux-ip', line: 1 },
  'pipex-disabled': { os: 'openbsd', line: 8 },
  'legacy-crypto': { os: 'openbsd', line: 1 },
  'l2tp-without-ipsec': { os: 'openbsd', line: 5 },
  'skip-lo-redirect': { os: 'freebsd', line: 2 },
};

function files(rule: string, kind: 'bad' | 'good'): string[] {
  const dir = fixture('net', 'lint', rule, kind);
  return readdirSync(dir).sort().map((f) => join(dir, f));
}

test('every rule has a case here', () => {
  assert.deepEqual(Object.keys(CASES).sort(), Object.keys(RULES).sort());
});

for (const [rule, c] of Object.entries(CASES)) {
  test(`${rule}: the failing fixture fires it with file:line and a fix`, async () => {
    const io = captureIo();
    assert.equal(await main(['check', '--os', c.os, ...files(rule, 'bad')], io), 1);
    const line = io.out().split('\n').find((l) => l.includes(`: ${rule}: `));
    assert.ok(line !== undefined, io.out());
    assert.match(line, new RegExp(`/${rule}/bad/[^:]+:${String(c.line)}: ${rule}: .+ \\(fix: .+\\)$`));
  });
  test(`${rule}: the passing fixture is clean`, async () => {
    const io = captureIo();
    assert.equal(await main(['check', '--os', c.os, ...files(rule, 'good')], io), 0, io.out());
    assert.equal(io.out(), '');
    assert.match(io.err(), /no problems found/);
  });
}

function lint(path: string, text: string): string[] {
  return analyze([parseFile(path, text)]).map((f) => `${String(f.line)}:${f.rule}`);
}

test('hand-written Linux forms: netplan without on-link, networkd without GatewayOnLink, ifupdown with a late up route', () => {
  const netplanBad = 'network:\n  version: 2\n  ethernets:\n    eth0:\n      addresses: [198.51.100.10/32]\n      routes:\n        - to: default\n          via: 192.0.2.1\n';
  assert.deepEqual(lint('/etc/netplan/01.yaml', netplanBad), ['7:gateway-unreachable']);
  assert.deepEqual(lint('/etc/netplan/01.yaml', `${netplanBad}          on-link: true\n`), []);
  const networkdBad = '[Match]\nName=eth0\n[Network]\nAddress=198.51.100.10/32\nGateway=192.0.2.1\n';
  assert.deepEqual(lint('10-eth0.network', networkdBad), ['5:gateway-unreachable']);
  assert.deepEqual(lint('10-eth0.network', '[Match]\nName=eth0\n[Network]\nAddress=198.51.100.10/32\n[Route]\nGateway=192.0.2.1\nGatewayOnLink=yes\n'), []);
  const ifupdownLate = 'auto eth0\niface eth0 inet static\n  address 198.51.100.10/32\n  gateway 192.0.2.1\n  up ip route add 192.0.2.1 dev eth0\n';
  assert.deepEqual(lint('interfaces', ifupdownLate), ['4:route-order']);
  assert.deepEqual(lint('interfaces', 'auto eth0\niface eth0 inet static\n  address 198.51.100.10\n  netmask 255.255.255.255\n  pointopoint 192.0.2.1\n  gateway 192.0.2.1\n'), []);
});

test('hand-written BSD forms: the seed NetBSD netstart.local and route.conf, wrong and right', () => {
  const seed = 'ifconfig vioif0 203.0.113.11/32\nroute add -net 192.0.2.1 -link -cloning -iface vioif0\nroute add default -ifa 203.0.113.11 192.0.2.1\n';
  assert.deepEqual(lint('netstart.local', seed), []);
  const swapped = seed.split('\n');
  assert.deepEqual(lint('netstart.local', [swapped[0], swapped[2], swapped[1], ''].join('\n')), ['2:route-order']);
  const files = [
    parseFile('ifconfig.vioif0', 'inet 203.0.113.11 netmask 255.255.255.255\n'),
    parseFile('route.conf', 'net 192.0.2.1 -netmask 255.255.255.255 -link -iface vioif0\nnet default -ifa 203.0.113.11 192.0.2.1\n'),
  ];
  assert.deepEqual(analyze(files), []);
  assert.deepEqual(analyze([files[0]!]), []);
  assert.deepEqual(
    analyze([parseFile('ifconfig.vioif0', 'inet 203.0.113.11 netmask 255.255.255.255\n'), parseFile('route.conf', 'net default 192.0.2.1\n')]).map((f) => f.rule),
    ['gateway-unreachable'],
  );
});

test('--os names the format of a file whose name says nothing', async () => {
  const d = await mkdtemp(join(tmpdir(), 'moat-net-lint-'));
  try {
    const f = join(d, 'guest-eth0');
    await writeFile(f, '[Match]\nName=eth0\n[Network]\nAddress=198.51.100.10/32\nGateway=192.0.2.1\n');
    const io = captureIo();
    assert.equal(await main(['check', '--os', 'linux-networkd', f], io), 1);
    assert.match(io.out(), /guest-eth0:5: gateway-unreachable: /);
    assert.equal(await main(['check', '--os', 'linux-ip', f], captureIo()), 0);
  } finally {
    await rm(d, { recursive: true, force: true });
  }
});

test('FreeBSD defaultrouter plus a static host route to the gateway: right from 10.0, wrong up to 9.x (--release)', async () => {
  const rc = join(fixture('net', 'lint', 'freebsd-defaultrouter'), 'rc.conf');
  for (const release of [[], ['--release', '15.0'], ['--release', '10.0'], ['--release', '13.2']]) {
    const io = captureIo();
    assert.equal(await main(['check', '--os', 'freebsd', ...release, rc], io), 0, `${release.join(' ')}: ${io.out()}`);
  }
  for (const release of ['9.3', '8.4']) {
    const io = captureIo();
    assert.equal(await main(['check', '--os', 'freebsd', '--release', release, rc], io), 1, release);
    assert.match(io.out(), /freebsd-defaultrouter\/rc\.conf:5: route-order: default route via 192\.0\.2\.1 comes before the on-link route to it \(.*rc\.conf:7\)/);
  }
  await assert.rejects(main(['check', '--os', 'freebsd', '--release', 'fourteen', rc], captureIo()), (e: unknown) => (e as { exitCode?: number }).exitCode === 64);
});
