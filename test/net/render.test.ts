// Rendering: golden files for the BSD outputs, the documented form for each
// release, the seed's own lines reproduced from the example specs, and spec
// errors that name the field with line:col while writing nothing.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, test } from 'node:test';
import { EX_USAGE, SourceSyntaxError } from '../../src/core/index.js';
import { main } from '../../src/net/index.js';
import { captureIo } from '../helpers/io.js';
import { fixture, haveCommand, needs, repoRoot, sharedDir } from '../helpers/system.js';

let work = '';
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'moat-net-render-'));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

const guestsSpec = join(repoRoot, 'examples/net/seed-guests.yaml');
const vpnSpec = join(repoRoot, 'examples/net/seed-vpn.yaml');

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

async function render(name: string, args: string[]): Promise<string> {
  const out = join(work, name);
  const io = captureIo();
  assert.equal(await main(['render', ...args, '--out', out], io), 0, io.err());
  return out;
}

const GOLDEN: Record<string, string[]> = {
  'seed-guests-freebsd': [guestsSpec, '--os', 'freebsd'],
  'seed-guests-openbsd-5.9': [guestsSpec, '--os', 'openbsd'],
  'seed-guests-openbsd-7.6': [guestsSpec, '--os', 'openbsd', '--release', '7.6', '--guest', 'obsd', '--guest', 'fbsd'],
  'seed-guests-netbsd-7.1': [guestsSpec, '--os', 'netbsd'],
  'seed-guests-netbsd-10.1': [guestsSpec, '--os', 'netbsd', '--release', '10.1', '--guest', 'nbsd', '--guest', 'fbsd'],
  'seed-vpn-openbsd': [vpnSpec, '--os', 'openbsd'],
};

for (const [name, args] of Object.entries(GOLDEN)) {
  test(`golden: ${name}`, async () => {
    const out = await render(name, args);
    const golden = fixture('net', 'golden', name);
    const got = walk(out).map((p) => relative(out, p)).sort();
    assert.deepEqual(got, walk(golden).map((p) => relative(golden, p)).sort());
    for (const rel of got) assert.equal(readFileSync(join(out, rel), 'utf8'), readFileSync(join(golden, rel), 'utf8'), rel);
  });
}

/** Lines from seed 000, as it prints them; checked against the seed itself when it is at hand. */
const SEED_LINES = {
  freebsd: [
    'ifconfig_vtnet0="inet 198.51.100.10/32"',
    'gateway_if="vtnet0"',
    'gateway_ip="192.0.2.1"',
    'static_routes="gateway default"',
    'route_gateway="-host $gateway_ip -interface $gateway_if"',
    'route_default="default $gateway_ip"',
  ],
  bhyve: ['-s 1:0,virtio-net,tap0,mac=00:50:56:00:01:AA'],
  netbsd: ['ifconfig vioif0 203.0.113.11/32', 'route add -net 192.0.2.1 -link -cloning -iface vioif0', 'route add default -ifa 203.0.113.11 192.0.2.1'],
  openbsd: [
    'inet 203.0.113.100 255.255.255.255 NONE',
    '!/sbin/route add -net 192.0.2.1 -netmask 255.255.255.255 -link -cloning -iface vio0',
    '!/sbin/route add default -ifa 203.0.113.100 192.0.2.1',
  ],
  pf: ['pass quick proto { esp, ah } from any to self', 'pass quick proto udp from any to self port {isakmp, ipsec-nat-t} keep state', 'pass on enc0 from any to self keep state (if-bound)'],
  ipsec: ['ike passive esp transport proto udp from 1.2.3.4 to any port 1701 psk "password"'],
  users: ['myuser:\\', ':password=mypass:\\', ':framed-ip-address=10.0.0.111:'],
  sysctl: ['net.pipex.enable=1'],
  rcConfLocal: ['isakmpd_flags="-K"', 'ipsec=YES', 'npppd_flags=""'],
};

/** Compare in substance: whitespace inside braces and runs of blanks do not matter. */
const norm = (s: string): string => s.replace(/\s+/g, ' ').replace(/\{\s*/g, '{ ').replace(/\s*\}/g, ' }').trim();

test('the seed lines quoted here are the seed\'s own', (t) => {
  const dir = join(sharedDir, 'seeds');
  const seedFile = existsSync(dir) ? readdirSync(dir).find((f) => f.startsWith('000_')) : undefined;
  if (seedFile === undefined) {
    t.diagnostic('seed 000 is not beside the repository; the quoted lines are not re-checked');
    return;
  }
  const seed = norm(readFileSync(join(dir, seedFile), 'utf8'));
  for (const l of Object.values(SEED_LINES).flat()) assert.ok(seed.includes(norm(l)), l);
});

test('rendering the examples reproduces the seed\'s lines for each OS', async () => {
  const fb = await render('seed-fb', [guestsSpec, '--os', 'freebsd']);
  const ob = await render('seed-ob', [guestsSpec, '--os', 'openbsd']);
  const nb = await render('seed-nb', [guestsSpec, '--os', 'netbsd']);
  const vpn = await render('seed-vpn', [vpnSpec, '--os', 'openbsd']);
  const has = async (file: string | string[], lines: string[]): Promise<void> => {
    const files = typeof file === 'string' ? [file] : file;
    const text = norm((await Promise.all(files.map((f) => readFile(f, 'utf8')))).join('\n'));
    for (const l of lines) assert.ok(text.includes(norm(l)), `${files.join(' + ')} lacks ${l}`);
  };
  // rc.conf(5) lines, split between the files rc.d/netif and rc.d/routing read.
  await has([join(fb, 'fbsd/etc/rc.conf.d/netif'), join(fb, 'fbsd/etc/rc.conf.d/routing')], SEED_LINES.freebsd);
  await has(join(fb, 'dedi/usr/local/etc/bhyve/fbsd.sh'), SEED_LINES.bhyve);
  await has(join(nb, 'nbsd/etc/netstart.local'), SEED_LINES.netbsd);
  await has(join(ob, 'obsd/etc/hostname.vio0'), SEED_LINES.openbsd);
  await has(join(vpn, 'vpn/etc/pf.moat-vpn.conf'), SEED_LINES.pf);
  await has(join(vpn, 'vpn/etc/ipsec.conf'), SEED_LINES.ipsec);
  await has(join(vpn, 'vpn/etc/npppd/npppd-users'), SEED_LINES.users);
  await has(join(vpn, 'vpn/etc/sysctl.conf'), SEED_LINES.sysctl);
  await has(join(vpn, 'vpn/etc/rc.conf.local'), SEED_LINES.rcConfLocal);
});

/** The documented form of each file, per release: every non-comment line must match one pattern. */
const FORMS: Record<string, { args: string[]; file: string; patterns: RegExp[] }> = {
  'OpenBSD 5.9 hostname.if (seed, -cloning)': {
    args: ['--os', 'openbsd', '--release', '5.9', '--guest', 'obsd'],
    file: 'obsd/etc/hostname.vio0',
    patterns: [/^inet [\d.]+ 255\.255\.255\.255 NONE$/, /^!\/sbin\/route add -net [\d.]+ -netmask 255\.255\.255\.255 -link -cloning -iface vio0$/, /^!\/sbin\/route add default -ifa [\d.]+ [\d.]+$/],
  },
  'OpenBSD 7.6 hostname.if (-llinfo -link -static)': {
    args: ['--os', 'openbsd', '--release', '7.6', '--guest', 'obsd'],
    file: 'obsd/etc/hostname.vio0',
    patterns: [/^inet [\d.]+ 255\.255\.255\.255$/, /^!route add -inet [\d.]+ -llinfo -link -static -iface vio0$/, /^!route add -inet default [\d.]+$/],
  },
  'OpenBSD 6.0 takes the -llinfo form too': {
    args: ['--os', 'openbsd', '--release', '6.0', '--guest', 'obsd'],
    file: 'obsd/etc/hostname.vio0',
    patterns: [/^inet [\d.]+ 255\.255\.255\.255$/, /-llinfo -link -static -iface vio0$/, /^!route add -inet default [\d.]+$/],
  },
  'OpenBSD hostname.gif0 (gif(4))': {
    args: ['--os', 'openbsd', '--guest', 'fbsd'],
    file: 'fbsd/etc/hostname.gif0',
    patterns: [/^tunnel [\d.]+ [\d.]+$/, /^mtu \d+$/, /^inet6 alias [\da-f:]+ 128$/, /^dest [\da-f:]+$/, /^!route -n add -inet6 default [\da-f:]+$/, /^up$/],
  },
  'NetBSD 7.1 netstart.local (seed)': {
    args: ['--os', 'netbsd', '--release', '7.1', '--guest', 'nbsd'],
    file: 'nbsd/etc/netstart.local',
    patterns: [/^ifconfig vioif0 [\d.]+\/32$/, /^route add -net [\d.]+ -link -cloning -iface vioif0$/, /^route add default -ifa [\d.]+ [\d.]+$/],
  },
  'NetBSD 10.1 route.conf (route.conf(5): "route add -" + line)': {
    args: ['--os', 'netbsd', '--release', '10.1', '--guest', 'nbsd'],
    file: 'nbsd/etc/route.conf',
    patterns: [/^net [\d.]+ -netmask 255\.255\.255\.255 -link -iface vioif0$/, /^net default -ifa [\d.]+ [\d.]+$/],
  },
  'NetBSD 10.1 ifconfig.if(5)': {
    args: ['--os', 'netbsd', '--release', '10.1', '--guest', 'nbsd'],
    file: 'nbsd/etc/ifconfig.vioif0',
    patterns: [/^inet [\d.]+ netmask 255\.255\.255\.255$/],
  },
  'FreeBSD rc.conf(5) for rc.d/routing, host route before default': {
    args: ['--os', 'freebsd', '--guest', 'fbsd'],
    file: 'fbsd/etc/rc.conf.d/routing',
    patterns: [/^(gateway_if|gateway_ip|static_routes|route_gateway|route_default|ipv6_defaultrouter)="[^"]*"$/],
  },
  'FreeBSD rc.conf(5) for rc.d/netif': {
    args: ['--os', 'freebsd', '--guest', 'fbsd'],
    file: 'fbsd/etc/rc.conf.d/netif',
    patterns: [/^(ifconfig_[a-z0-9_]+|cloned_interfaces|create_args_[a-z0-9]+)="[^"]*"$/],
  },
};

for (const [name, f] of Object.entries(FORMS)) {
  test(`documented form: ${name}`, async () => {
    const out = await render(`form-${name.replace(/\W+/g, '-')}`, [guestsSpec, ...f.args]);
    const lines = (await readFile(join(out, f.file), 'utf8')).split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    assert.ok(lines.length > 0);
    for (const l of lines) assert.ok(f.patterns.some((p) => p.test(l)), `${f.file}: '${l}' is not in the documented form`);
    for (const p of f.patterns) assert.ok(lines.some((l) => p.test(l)), `${f.file}: nothing matches ${String(p)}`);
  });
}

test('every line that follows a document is preceded by a comment citing it', async () => {
  for (const os of ['freebsd', 'openbsd', 'netbsd', 'linux-ifupdown', 'linux-netplan', 'linux-networkd', 'linux-ip']) {
    const out = await render(`cite-${os}`, [guestsSpec, '--os', os, '--guest', 'fbsd', '--guest', 'obsd']);
    for (const file of walk(out)) {
      const text = await readFile(file, 'utf8');
      const head = text.split('\n').slice(0, 4);
      assert.ok(head.some((l) => /^# .*(\(\d\)|seed 000)/.test(l)), `${file} cites no document near its top`);
    }
  }
});

test('a bad spec names the field with line:col and writes nothing', async () => {
  const bad = join(work, 'bad.yaml');
  const text = (await readFile(guestsSpec, 'utf8')).replace('mac: "00:50:56:00:02:BB"', 'mac: "00:50:56:00:02"');
  await writeFile(bad, text);
  const out = join(work, 'never');
  const err = await main(['render', bad, '--os', 'freebsd', '--out', out], captureIo()).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof SourceSyntaxError);
  const line = text.split('\n').findIndex((l) => l.includes('00:50:56:00:02"')) + 1;
  assert.equal(err.line, line);
  assert.match(err.format(), new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${String(line)}:\\d+: failover\\.1\\.mac: must be a MAC address`));
  assert.equal(existsSync(out), false);
});

test('an unknown key and a guest on a missing tunnel guest are caught by the schema', async () => {
  const bad = join(work, 'bad2.yaml');
  await writeFile(bad, (await readFile(guestsSpec, 'utf8')).replace('  guest: fbsd', '  guest: nobody').replace('  uplink: igb0', '  uplink: igb0\n  uplnk: igb1'));
  await assert.rejects(main(['render', bad, '--os', 'freebsd', '--out', join(work, 'x')], captureIo()), /host\.uplnk: unknown field/);
});

test('usage: --help fits a screen, bad options exit 64', async () => {
  for (const argv of [['--help'], ['render', '--help'], ['check', '--help'], ['dhcpv6-check', '--help']]) {
    const io = captureIo();
    assert.equal(await main(argv, io), 0);
    assert.ok(io.out().split('\n').length <= 24, argv.join(' '));
  }
  await assert.rejects(main(['render', guestsSpec, '--os', 'plan9', '--out', work], captureIo()), (e: unknown) => (e as { exitCode?: number }).exitCode === EX_USAGE);
  await assert.rejects(main(['render', guestsSpec, '--bogus'], captureIo()), (e: unknown) => (e as { exitCode?: number }).exitCode === EX_USAGE);
  // render needs the form; the message lists the four.
  await assert.rejects(
    main(['render', guestsSpec, '--os', 'linux', '-o', work], captureIo()),
    (e: unknown) => (e as { exitCode?: number }).exitCode === EX_USAGE && String(e).includes('--os linux: name the form, one of linux-ifupdown, linux-netplan, linux-networkd, linux-ip'),
  );
  await assert.rejects(main(['frobnicate'], captureIo()), (e: unknown) => (e as { exitCode?: number }).exitCode === EX_USAGE && String(e).includes("unknown command 'frobnicate'"));
});

test('check over the example specs: clean, and a spec with the seed\'s pitfalls fires its rules', async () => {
  for (const spec of [guestsSpec, vpnSpec]) {
    const io = captureIo();
    assert.equal(await main(['check', spec], io), 0, io.out());
  }
  const bad = join(work, 'pitfalls.yaml');
  const text = (await readFile(guestsSpec, 'utf8'))
    .replace('    mac: "00:50:56:00:02:BB"\n', '')
    .replace('ip: 203.0.113.100/32', 'ip: 198.51.100.10/32');
  await writeFile(bad, `${text}vpn:\n  listen: 192.0.2.10\n  auth:\n    psk: password\n  users:\n    - name: u\n      password: p\n      framedIp: 10.0.0.2\n  pool: 10.0.0.0/24\n  crypto: legacy-apple\n  pipex: false\n`);
  const io = captureIo();
  assert.equal(await main(['check', bad], io), 1);
  for (const rule of ['mac-missing', 'ip-shared', 'legacy-crypto', 'pipex-disabled']) assert.match(io.out(), new RegExp(`pitfalls\\.yaml:\\d+: ${rule}: `));
});

test('the rendered rc.conf and scripts are valid sh, and rc.conf expands to the seed\'s routes', async (t) => {
  if (!needs(t, { sh: haveCommand('sh') })) return;
  const out = await render('sh-check', [guestsSpec, '--os', 'freebsd']);
  for (const f of walk(out)) {
    const r = spawnSync('sh', ['-n', f], { encoding: 'utf8', shell: false });
    assert.equal(r.status, 0, `${f}: ${r.stderr}`);
  }
  // rc(8) sources rc.conf with sh: after that the route_* values must read as route(8) arguments.
  const rc = join(out, 'fbsd/etc/rc.conf.d/routing');
  const r = spawnSync('sh', ['-c', '. "$1" && printf "%s\\n" "$static_routes" "$route_gateway" "$route_default"', 'sh', rc], { encoding: 'utf8', shell: false });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.split('\n'), ['gateway default', '-host 192.0.2.1 -interface vtnet0', 'default 192.0.2.1', '']);
});
