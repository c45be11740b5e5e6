// FreeBSD's rc(8) reads /etc/rc.conf.d/NAME for the calling script's own
// NAME only (rc.subr's load_rc_config): rc.d/netif reads "network" and
// "netif", rc.d/routing reads "routing". The rendered files are sourced here
// the way those scripts source them, so a variable in a file its script
// never reads is caught.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { main } from '../../src/net/index.js';
import { captureIo } from '../helpers/io.js';
import { fixture, haveCommand, needs, repoRoot } from '../helpers/system.js';

/** The names each rc.d script passes to load_rc_config (libexec/rc/rc.d/netif and routing). */
const READS = { netif: ['network', 'netif'], routing: ['routing'] } as const;

let work = '';
before(async () => {
  work = await mkdtemp(join(tmpdir(), `moat-net-rcd-${String(process.pid)}-`));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

async function render(name: string, spec: string): Promise<string> {
  const out = join(work, name);
  const io = captureIo();
  assert.equal(await main(['render', spec, '--os', 'freebsd', '--out', out], io), 0, io.err());
  return out;
}

/** What rc.d/SCRIPT sees of VARS after load_rc_config on MACHINE's rendered /etc. */
function seenBy(machineRoot: string, script: keyof typeof READS, vars: readonly string[]): Record<string, string> {
  // As rc.subr: [ -f $d/rc.conf.d/$name ] && . $d/rc.conf.d/$name, for each name the script loads.
  const prog = `d="$1"; shift; for n in ${READS[script].join(' ')}; do if [ -f "$d/etc/rc.conf.d/$n" ]; then . "$d/etc/rc.conf.d/$n"; fi; done; for v in "$@"; do eval "printf '%s=%s\\\\n' \\"\\$v\\" \\"\\\${$v}\\""; done`;
  const r = spawnSync('sh', ['-c', prog, 'sh', machineRoot, ...vars], { encoding: 'utf8', shell: false });
  assert.equal(r.status, 0, r.stderr);
  return Object.fromEntries(r.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

test('FreeBSD guest: rc.d/routing sees the static routes and the tunnel\'s default, rc.d/netif the interfaces', async (t) => {
  if (!needs(t, { sh: haveCommand('sh') })) return;
  const out = await render('guests', join(repoRoot, 'examples/net/seed-guests.yaml'));
  const routing = seenBy(join(out, 'fbsd'), 'routing', ['static_routes', 'route_gateway', 'route_default', 'ipv6_defaultrouter']);
  assert.deepEqual(routing, {
    static_routes: 'gateway default',
    route_gateway: '-host 192.0.2.1 -interface vtnet0',
    route_default: 'default 192.0.2.1',
    ipv6_defaultrouter: '2001:db8:1f0a::1',
  });
  const netif = seenBy(join(out, 'fbsd'), 'netif', ['ifconfig_vtnet0', 'cloned_interfaces', 'create_args_gif0', 'ifconfig_gif0_ipv6']);
  assert.equal(netif.ifconfig_vtnet0, 'inet 198.51.100.10/32');
  assert.equal(netif.cloned_interfaces, 'gif0');
  assert.equal(netif.create_args_gif0, 'tunnel 198.51.100.10 203.0.113.254 mtu 1480');
  assert.equal(netif.ifconfig_gif0_ipv6, 'inet6 2001:db8:1f0a::2 2001:db8:1f0a::1 prefixlen 128');
});

test('FreeBSD host with the tunnel: one cloned_interfaces with bridge, taps and gif0, read by rc.d/netif', async (t) => {
  if (!needs(t, { sh: haveCommand('sh') })) return;
  const out = await render('host-tunnel', fixture('net', 'specs', 'host-tunnel.yaml'));
  const host = join(out, 'dedi');
  // Every rc.conf.d file is named after a script that reads it.
  const readers = new Set<string>(Object.values(READS).flat());
  for (const f of readdirSync(join(host, 'etc/rc.conf.d'))) assert.ok(readers.has(f), `etc/rc.conf.d/${f} is read by no rc.d script`);
  const netif = seenBy(host, 'netif', ['cloned_interfaces', 'ifconfig_bridge0', 'create_args_gif0']);
  assert.equal(netif.cloned_interfaces, 'bridge0 tap0 gif0');
  assert.equal(netif.ifconfig_bridge0, 'addm igb0 addm tap0 up');
  assert.equal(netif.create_args_gif0, 'tunnel 192.0.2.10 203.0.113.254 mtu 1480');
  assert.deepEqual(seenBy(host, 'routing', ['ipv6_defaultrouter']), { ipv6_defaultrouter: '2001:db8:1f0a::1' });
});

test('FreeBSD host with the tunnel and no guests: gif0 alone, no bridge of the uplink', async (t) => {
  if (!needs(t, { sh: haveCommand('sh') })) return;
  const text = (await readFile(fixture('net', 'specs', 'host-tunnel.yaml'), 'utf8')).replace(/^failover:[\s\S]*?^tunnel:/m, 'tunnel:');
  const spec = join(work, 'host-only.yaml');
  await writeFile(spec, text);
  const host = join(await render('host-only', spec), 'dedi');
  assert.deepEqual(seenBy(host, 'netif', ['cloned_interfaces', 'ifconfig_bridge0']), { cloned_interfaces: 'gif0', ifconfig_bridge0: '' });
  assert.deepEqual(seenBy(host, 'routing', ['ipv6_defaultrouter']), { ipv6_defaultrouter: '2001:db8:1f0a::1' });
});
