// PF cannot run here: the anchor moat renders and the exact pfctl(8) command
// lines it issues are compared with golden files that were checked by hand
// against pf.conf(5) and pfctl(8). MOAT_UPDATE_GOLDEN=1 rewrites them.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { MoatError } from '../../../src/core/errors.js';
import { createFirewall, parsePfTableStats, type CommandRunner, type RunOutput } from '../../../src/portal/firewall/index.js';
import { fixture } from '../../helpers/system.js';

const update = process.env.MOAT_UPDATE_GOLDEN === '1';

function golden(name: string, actual: string): void {
  const file = fixture('portal', 'firewall', name);
  if (update) writeFileSync(file, actual);
  assert.equal(actual, readFileSync(file, 'utf8'), `${name} differs from the golden file`);
}

const base = {
  backend: 'pf' as const,
  table: 'moat_portal',
  lanInterface: 'em1',
  gatewayV4: '10.1.0.1',
  prefixV4: 24,
  gatewayV6: 'fd00:1::1',
  webPort: 3990,
  httpsPort: 4990,
  preloginDnsPort: 5353,
  gardenAddresses: ['192.0.2.10', '198.51.100.0/24', '2001:db8:1::/48'],
};

/** A pfctl that records its argv and stdin and answers `-T show -v` from a fixture. */
function recorder(): { runner: CommandRunner; calls: { argv: string[]; stdin?: string }[] } {
  const calls: { argv: string[]; stdin?: string }[] = [];
  const show = readFileSync(fixture('portal', 'firewall', 'pfctl-show-v.txt'), 'utf8');
  return {
    calls,
    runner: {
      run(argv, input): Promise<RunOutput> {
        calls.push(input === undefined ? { argv: [...argv] } : { argv: [...argv], stdin: input });
        const isShow = argv.includes('show');
        return Promise.resolve({ code: 0, stdout: isShow ? show : '', stderr: '' });
      },
    },
  };
}

test('the OpenBSD anchor (rdr-to on pass rules) matches its golden file', async () => {
  const r = recorder();
  const fw = createFirewall({ ...base, pfFlavour: 'openbsd', runner: r.runner, pfctl: '/sbin/pfctl' });
  await fw.setup();
  golden('openbsd.anchor', r.calls[0]?.stdin ?? '');
});

test('the OpenBSD anchor with divert-to matches its golden file', async () => {
  const r = recorder();
  await createFirewall({ ...base, pfFlavour: 'openbsd', pfDivert: true, runner: r.runner }).setup();
  golden('openbsd-divert.anchor', r.calls[0]?.stdin ?? '');
});

test('the FreeBSD anchor (rdr pass rules) matches its golden file', async () => {
  const r = recorder();
  await createFirewall({ ...base, gatewayV6: undefined, pfFlavour: 'freebsd', runner: r.runner }).setup();
  golden('freebsd.anchor', r.calls[0]?.stdin ?? '');
});

test('login, counters, logout and teardown issue exactly these pfctl command lines', async () => {
  const r = recorder();
  const fw = createFirewall({ ...base, pfFlavour: 'openbsd', runner: r.runner, pfctl: '/sbin/pfctl' });
  const client = { ifname: 'em1', mac: '02:00:00:00:00:10', ipv4: '10.1.0.10', ipv6: ['fd00:1::10'] };
  await fw.setup();
  await fw.authorize(client);
  const counters = await fw.counters();
  await fw.deauthorize(client);
  await fw.gardenAdd('203.0.113.0/24');
  await fw.gardenDel('2001:db8:2::1');
  await fw.teardown();
  const lines = r.calls.map((c) => c.argv.join(' ') + (c.stdin === undefined ? '' : ' < anchor')).join('\n');
  golden('pfctl-calls.txt', `${lines}\n`);
  // Counters: In/Pass from the client, Out/Pass to it, IPv4 and IPv6 summed, keyed by MAC; unknown addresses left out.
  assert.deepEqual([...counters.entries()], [
    ['02:00:00:00:00:10', { ifname: 'em1', bytesUp: 98304n + 800n, packetsUp: 1530n, bytesDown: 10485760n + 5000000000n, packetsDown: 7412n }],
  ]);
});

test('setup with a restore list adds only the clients the table lost', async () => {
  const r = recorder();
  const fw = createFirewall({ ...base, runner: r.runner, pfFlavour: 'openbsd' });
  await fw.setup([
    { ifname: 'em1', mac: '02:00:00:00:00:10', ipv4: '10.1.0.10' },
    { ifname: 'em1', mac: '02:00:00:00:00:11', ipv4: '10.1.0.11' },
  ]);
  const adds = r.calls.filter((c) => c.argv.includes('add')).map((c) => c.argv.join(' '));
  assert.deepEqual(adds, ['/sbin/pfctl -a moat_portal -t moat_auth -T add 10.1.0.11']);
  // The table (the fixture) holds 10.1.0.10, fd00:1::10 and 10.1.0.77; only 10.1.0.10's MAC is known here.
  const list = await fw.authorized();
  assert.deepEqual(list, [
    { ifname: 'em1', mac: '02:00:00:00:00:10', ipv6: [], ipv4: '10.1.0.10' },
    { ifname: 'em1', mac: '', ipv6: ['fd00:1::10'] },
    { ifname: 'em1', mac: '', ipv6: [], ipv4: '10.1.0.77' },
  ]);
});

test('PF refuses per-client rates with MOAT_PORTAL_FW_UNSUPPORTED, and leaves quotas to the daemon', async () => {
  const r = recorder();
  const fw = createFirewall({ ...base, runner: r.runner });
  const c = { ifname: 'em1', mac: '02:00:00:00:00:10', ipv4: '10.1.0.10' };
  const unsupported = (e: unknown): boolean => e instanceof MoatError && e.code === 'MOAT_PORTAL_FW_UNSUPPORTED' && e.message.includes('cannot enforce a per-client bandwidth');
  await assert.rejects(fw.authorize(c, { bandwidthDown: 2_000_000 }), unsupported);
  await assert.rejects(fw.setLimits(c, { bandwidthUp: 1_000_000 }), unsupported);
  assert.equal(r.calls.length, 0, 'nothing ran');
  await fw.authorize(c, { quotaBytes: 10n });
  await fw.setLimits(c, { quotaBytes: 20n });
  assert.deepEqual(r.calls.map((x) => x.argv.join(' ')), ['/sbin/pfctl -a moat_portal -t moat_auth -T delete 10.1.0.10', '/sbin/pfctl -a moat_portal -t moat_auth -T add 10.1.0.10']);
});

test('an address a client starts using joins the table without resetting the others', async () => {
  const r = recorder();
  const fw = createFirewall({ ...base, runner: r.runner });
  await fw.addAddresses({ ifname: 'em1', mac: '02:00:00:00:00:10', ipv6: ['fd00:1::99'] }, {});
  assert.deepEqual(r.calls.map((x) => x.argv.join(' ')), ['/sbin/pfctl -a moat_portal -t moat_auth -T add fd00:1::99']);
});

test('pfctl -T show -v output: counters per address, large values exact, junk skipped', () => {
  const s = parsePfTableStats(readFileSync(fixture('portal', 'firewall', 'pfctl-show-v.txt'), 'utf8') + '\nnot an address\n\tIn/Pass: [ Packets: 9 Bytes: 9 ]\n');
  assert.equal(s.length, 3);
  assert.equal(s[1]?.outPassBytes, 5000000000n);
  assert.deepEqual(s[2], { address: '10.1.0.77', inPassPackets: 1n, inPassBytes: 60n, outPassPackets: 1n, outPassBytes: 40n });
});
