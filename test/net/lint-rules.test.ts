// Each lint rule has a failing and a passing fixture of hand-written files;
// `moat net check --os X FILES...` must exit 1 naming the rule, file and line
// for the first, and 0 for the second.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { EX_DATAERR, EX_USAGE, UsageError } from '../../src/core/index.js';
import { analyze, kindByName, main, parseFile, RULES, type RuleId } from '../../src/net/index.js';
import { captureIo } from '../helpers/io.js';
import { fixture, repoRoot } from '../helpers/system.js';

const CASES: Record<RuleId, { os: string; line: number }> = {
  'route-order': { os: 'freebsd', line: 5 },
  'rc-conf-unread': { os: 'freebsd', line: 5 },
  'gateway-unreachable': { os: 'openbsd', line: 2 },
  'mac-missing': { os: 'freebsd', line: 2 },
  'mac-duplicate': { os: 'freebsd', line: 1 },
  'ip-shared': { os: 'linux-ip', line: 1 },
  'pipex-disabled': { os: 'openbsd', line: 8 },
  'legacy-crypto': { os: 'openbsd', line: 1 },
  'l2tp-without-ipsec': { os: 'openbsd', line: 5 },
  'skip-lo-redirect': { os: 'freebsd', line: 2 },
};

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

function files(rule: string, kind: 'bad' | 'good'): string[] {
  return walk(fixture('net', 'lint', rule, kind)).sort();
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

async function tempDir(t: TestContext): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), `moat-net-lint-${String(process.pid)}-`));
  t.after(() => rm(d, { recursive: true, force: true }));
  return d;
}

async function put(dir: string, rel: string, text: string): Promise<string> {
  const p = join(dir, rel);
  await mkdir(dirname(p), { recursive: true });
  await writeFile(p, text);
  return p;
}

const OFFLINK_DEFAULT = {
  freebsd: 'ifconfig_vtnet0="inet 198.51.100.10/32"\nstatic_routes="default"\nroute_default="default 192.0.2.1"\n',
  openbsd: 'inet 203.0.113.100 255.255.255.255\n!route add -inet default 192.0.2.1\n',
  netbsd: 'ifconfig vioif0 203.0.113.11/32\nroute add default 192.0.2.1\n',
  linux: 'auto eth0\niface eth0 inet static\n  address 198.51.100.10/32\n  gateway 192.0.2.1\n',
};

test('check knows the standard names: rc.conf.local, rc.conf.d/*, hostname.*, netstart.local, interfaces.d/*', async (t) => {
  const d = await tempDir(t);
  const cases: [string, string, string][] = [
    ['freebsd', 'etc/rc.conf.local', OFFLINK_DEFAULT.freebsd],
    ['freebsd', 'etc/rc.conf.d/routing', OFFLINK_DEFAULT.freebsd],
    ['openbsd', 'etc/hostname.vio0', OFFLINK_DEFAULT.openbsd],
    ['netbsd', 'etc/netstart.local', OFFLINK_DEFAULT.netbsd],
    ['linux', 'etc/network/interfaces.d/eth0', OFFLINK_DEFAULT.linux],
  ];
  for (const [os, rel, text] of cases) {
    const f = await put(d, rel, text);
    const io = captureIo();
    assert.equal(await main(['check', '--os', os, f], io), 1, `${rel}: ${io.err()}`);
    assert.match(io.out(), new RegExp(`${rel.replace(/\./g, '\\.')}:\\d+: gateway-unreachable: `), rel);
  }
});

test('a file check cannot place is refused, naming it: not "no problems found"', async (t) => {
  const d = await tempDir(t);
  const junk = await put(d, 'notes.txt', 'call the provider about the MAC\n');
  const io = captureIo();
  assert.equal(await main(['check', '--os', 'openbsd', junk], io), EX_DATAERR);
  assert.match(io.err(), new RegExp(`${junk.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot tell what kind of file this is`));
  assert.doesNotMatch(io.err(), /no problems found/);
  assert.equal(io.out(), '');
  // Without --os every file is taken for a spec: a system file is refused by name.
  const local = await put(d, 'rc.conf.local', 'isakmpd_flags="-K"\nipsec=YES\n');
  await assert.rejects(
    main(['check', local], captureIo()),
    (e: unknown) => e instanceof UsageError && e.message.includes(`${local} is rc.conf(5), not a spec`) && e.message.includes('--os freebsd|openbsd|netbsd|linux'),
  );
});

test('--os reads the kind of an unknown name from its content, for the systems that read it', async (t) => {
  const d = await tempDir(t);
  const f = await put(d, 'guest-eth0', '[Match]\nName=eth0\n[Network]\nAddress=198.51.100.10/32\nGateway=192.0.2.1\n');
  for (const os of ['linux', 'linux-networkd', 'linux-ip']) {
    const io = captureIo();
    assert.equal(await main(['check', '--os', os, f], io), 1, os);
    assert.match(io.out(), /guest-eth0:5: gateway-unreachable: /);
  }
  const io = captureIo();
  assert.equal(await main(['check', '--os', 'freebsd', f], io), EX_DATAERR);
  assert.match(io.err(), /guest-eth0: its content is systemd\.network\(5\), which freebsd does not read/);
  const rc = await put(d, 'my-routes', OFFLINK_DEFAULT.freebsd);
  assert.equal(await main(['check', '--os', 'freebsd', rc], captureIo()), 1);
  await assert.rejects(
    main(['check', '--os', 'plan9', rc], captureIo()),
    (e: unknown) => e instanceof UsageError && e.message.includes('--os must be one of freebsd, openbsd, netbsd, linux, linux-ifupdown'),
  );
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
  await assert.rejects(main(['check', '--os', 'freebsd', '--release', 'fourteen', rc], captureIo()), (e: unknown) => (e as { exitCode?: number }).exitCode === EX_USAGE);
});

test('FreeBSD: defaultrouter in rc.conf and the host route in rc.conf.d/routing are one configuration to rc.d/routing', async () => {
  const dir = fixture('net', 'lint', 'freebsd-split');
  const both = [join(dir, 'etc/rc.conf'), join(dir, 'etc/rc.conf.d/routing')];
  for (const order of [both, [...both].reverse()]) {
    const io = captureIo();
    assert.equal(await main(['check', '--os', 'freebsd', ...order], io), 0, io.out());
    const old = captureIo();
    assert.equal(await main(['check', '--os', 'freebsd', '--release', '9.3', ...order], old), 1);
    // The default route is named where defaultrouter is set, the gateway's route where it is ("$gateway_ip" from rc.conf).
    assert.match(old.out(), /etc\/rc\.conf:5: route-order: default route via 192\.0\.2\.1 comes before the on-link route to it \(.*rc\.conf\.d\/routing:2\)/);
  }
  // rc.conf.d/routing alone: "$gateway_ip" is empty there, and defaultrouter unset.
  assert.equal(await main(['check', '--os', 'freebsd', join(dir, 'etc/rc.conf.d/routing')], captureIo()), 0);
});

test('every file render writes is known to check by its name, so check of a rendered tree refuses nothing', async (t) => {
  const d = await tempDir(t);
  for (const os of ['freebsd', 'openbsd', 'netbsd', 'linux-ifupdown', 'linux-netplan', 'linux-networkd', 'linux-ip']) {
    const out = join(d, os);
    const guests = ['--guest', 'fbsd', '--guest', 'obsd', '--guest', 'nbsd'];
    assert.equal(await main(['render', join(repoRoot, 'examples/net/seed-guests.yaml'), '--os', os, ...guests, '-o', out], captureIo()), 0, os);
    if (os === 'openbsd' || os.startsWith('linux-')) assert.equal(await main(['render', join(repoRoot, 'examples/net/seed-vpn.yaml'), '--os', os, '-o', out], captureIo()), 0, os);
    const rendered = walk(out);
    for (const f of rendered) assert.notEqual(kindByName(f), undefined, f);
    const io = captureIo();
    assert.equal(await main(['check', '--os', os, ...rendered], io), 0, `${os}: ${io.out()}${io.err()}`);
  }
});
