// The nftables side without a kernel: the ruleset text (a golden file, read
// against nft(8)), the JSON read-back, and the checks on what goes into a batch.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { MoatError } from '../../../src/core/errors.js';
import { checkClient } from '../../../src/portal/firewall/client-key.js';
import { createFirewall, splitGarden } from '../../../src/portal/firewall/index.js';
import { renderAdd, renderApply, renderLimits, renderMapEntries, renderRemoveCounters } from '../../../src/portal/firewall/nft-ruleset.js';
import { parseTableState } from '../../../src/portal/firewall/nft-state.js';
import { labId, mustRun, run } from '../../helpers/portal-netns.js';
import { fixture, haveCommand, haveNetns, needs } from '../../helpers/system.js';

const opts = {
  table: 'moat_portal',
  lanInterface: 'wlan0',
  gatewayV4: '10.1.0.1',
  prefixV4: 24,
  gatewayV6: 'fd00:1::1',
  webPort: 3990,
  httpsPort: 4990,
  dnsPort: 53,
  preloginDnsPort: 5353,
  gardenV4: ['192.0.2.10', '198.51.100.0/24'],
  gardenV6: ['2001:db8:1::/48'],
  wanInterface: 'eth0',
  markBit: 0x20000000,
};

test('the applied ruleset matches its golden file', () => {
  const text = renderApply(opts);
  const file = fixture('portal', 'firewall', 'nft-apply.nft');
  if (process.env.MOAT_UPDATE_GOLDEN === '1') writeFileSync(file, text);
  assert.equal(text, readFileSync(file, 'utf8'));
});

test("a client's batch: its elements, its limit objects and their map entries, nothing else", () => {
  const c = checkClient({ ifname: 'wlan0', mac: '02:AA:00:00:00:10', ipv4: '10.1.0.10', ipv6: ['FD00:1::10'] });
  assert.equal(c.mac, '02:aa:00:00:00:10');
  assert.deepEqual(renderAdd('inet t', c, { timeoutSec: 3600 }), [
    'add element inet t up4 { "wlan0" . 02:aa:00:00:00:10 . 10.1.0.10 timeout 3600s }',
    'add element inet t down4 { "wlan0" . 10.1.0.10 timeout 3600s }',
    'add element inet t up6 { "wlan0" . 02:aa:00:00:00:10 . fd00:1::10 timeout 3600s }',
    'add element inet t down6 { "wlan0" . fd00:1::10 timeout 3600s }',
  ]);
  assert.deepEqual(renderLimits('inet t', c, { bandwidthDown: 2_000_000, quotaBytes: 1_000_000n }), [
    'add limit inet t ld_02aa00000010_wlan0 { rate over 250000 bytes/second burst 3028 bytes }',
    'add quota inet t qt_02aa00000010_wlan0 { over 1000000 bytes }',
    'add element inet t lim_dn4 { "wlan0" . 10.1.0.10 : "ld_02aa00000010_wlan0" }',
    'add element inet t lim_dn6 { "wlan0" . fd00:1::10 : "ld_02aa00000010_wlan0" }',
    'add element inet t qt_up4 { "wlan0" . 02:aa:00:00:00:10 . 10.1.0.10 : "qt_02aa00000010_wlan0" }',
    'add element inet t qt_up6 { "wlan0" . 02:aa:00:00:00:10 . fd00:1::10 : "qt_02aa00000010_wlan0" }',
    'add element inet t qt_dn4 { "wlan0" . 10.1.0.10 : "qt_02aa00000010_wlan0" }',
    'add element inet t qt_dn6 { "wlan0" . fd00:1::10 : "qt_02aa00000010_wlan0" }',
  ]);
  // Removal that cannot fail on a missing element: add (a no-op when present), then delete.
  assert.deepEqual(renderRemoveCounters('inet t', checkClient({ ifname: 'wlan0', mac: '02:aa:00:00:00:10', ipv4: '10.1.0.10' })), [
    'add element inet t up4 { "wlan0" . 02:aa:00:00:00:10 . 10.1.0.10 }',
    'delete element inet t up4 { "wlan0" . 02:aa:00:00:00:10 . 10.1.0.10 }',
    'add element inet t down4 { "wlan0" . 10.1.0.10 }',
    'delete element inet t down4 { "wlan0" . 10.1.0.10 }',
  ]);
});

test('nothing a client controls reaches a batch unchecked: MOAT_PORTAL_FW_BAD_CLIENT', async () => {
  const fw = createFirewall({ backend: 'nft', lanInterface: 'wlan0', gatewayV4: '10.1.0.1', prefixV4: 24, webPort: 3990, httpsPort: 4990, preloginDnsPort: 5353 });
  const bad = [
    { ifname: 'wlan0"; flush ruleset', mac: '02:00:00:00:00:01', ipv4: '10.1.0.2' },
    { ifname: 'wlan0', mac: '02:00:00:00:00:01 }', ipv4: '10.1.0.2' },
    { ifname: 'wlan0', mac: '02:00:00:00:00:01', ipv4: '10.1.0.2 }; delete table inet moat_portal' },
    { ifname: 'wlan0', mac: '02:00:00:00:00:01', ipv6: ['fe80::1%wlan0'] },
    { ifname: 'wlan0', mac: '02:00:00:00:00:01' },
  ];
  for (const c of bad) {
    await assert.rejects(fw.authorize(c), (e: unknown) => e instanceof MoatError && e.code === 'MOAT_PORTAL_FW_BAD_CLIENT', JSON.stringify(c));
  }
  const c = { ifname: 'wlan0', mac: '02:00:00:00:00:01', ipv4: '10.1.0.2' };
  for (const l of [{ bandwidthUp: 0 }, { bandwidthDown: Number.NaN }, { quotaBytes: 0n }, { quotaUp: 1n << 63n }, { timeoutSec: 1.5 }]) {
    await assert.rejects(fw.authorize(c, l), (e: unknown) => e instanceof MoatError && e.code === 'MOAT_PORTAL_FW_BAD_CLIENT', JSON.stringify(l, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)));
  }
});

test('bad firewall options are MOAT_PORTAL_FW_CONFIG', () => {
  const base = { backend: 'nft' as const, lanInterface: 'wlan0', gatewayV4: '10.1.0.1', prefixV4: 24, webPort: 3990, httpsPort: 4990, preloginDnsPort: 5353 };
  for (const o of [{ table: 'moat portal' }, { prefixV4: 31 }, { webPort: 0 }, { markBit: 3 }, { gardenAddresses: ['example.org'] }, { gardenAddresses: ['10.0.0.0/33'] }]) {
    assert.throws(() => createFirewall({ ...base, ...o }), (e: unknown) => e instanceof MoatError && e.code === 'MOAT_PORTAL_FW_CONFIG', JSON.stringify(o));
  }
  assert.deepEqual(splitGarden(['10.0.0.0/8', '2001:DB8::/32', '192.0.2.1']), { v4: ['10.0.0.0/8', '192.0.2.1'], v6: ['2001:db8::/32'] });
});

test('nft -j output: elements with counters (past 2^53 exactly), timeouts, map data, objects', () => {
  const text = readFileSync(fixture('portal', 'firewall', 'nft-list.json'), 'utf8');
  const st = parseTableState(text);
  const up4 = st.sets.get('up4');
  assert.equal(up4?.type, 'ifname . ether_addr . ipv4_addr');
  assert.equal(up4.counter, true);
  assert.deepEqual(up4.elements[0], { key: ['wlan0', '02:00:00:00:00:01', '10.1.0.2'], timeoutSec: 3600, expiresSec: 3599, packets: 5n, bytes: 9007199254740993n });
  assert.deepEqual(up4.elements[1], { key: ['wlan0', '02:00:00:00:00:02', '10.1.0.3'], packets: 0n, bytes: 0n });
  assert.deepEqual(st.sets.get('lim_dn4')?.elements, [{ key: ['wlan0', '10.1.0.3'], data: 'ld_020000000002_wlan0', timeoutSec: 3600, expiresSec: 3599 }]);
  assert.deepEqual(st.limits.get('ld_020000000002_wlan0'), { name: 'ld_020000000002_wlan0', rate: 250000, per: 'second', rateUnit: 'bytes', burst: 3028, burstUnit: 'bytes', inv: true });
  assert.deepEqual(st.quotas.get('qt_020000000002_wlan0'), { name: 'qt_020000000002_wlan0', bytes: 1000000n, used: 42n, inv: true });
  assert.deepEqual(st.chains.get('dstnat'), { type: 'nat', hook: 'prerouting', prio: -100 });
  assert.deepEqual(parseTableState('{"nftables": 5}').sets.size, 0);
  assert.throws(() => parseTableState('not json'));
});

test('nft itself accepts the golden ruleset (nft -c in a fresh namespace)', (t) => {
  if (!needs(t, { 'root and network namespaces': haveNetns(), nft: haveCommand('nft') })) return;
  const ns = `${labId()}-chk`;
  mustRun(['ip', 'netns', 'add', ns]);
  try {
    const r = run(['ip', 'netns', 'exec', ns, 'nft', '-c', '-f', fixture('portal', 'firewall', 'nft-apply.nft')]);
    assert.equal(r.status, 0, r.stderr);
    const broken = run(['ip', 'netns', 'exec', ns, 'nft', '-c', '-f', '-'], 20_000, 'add rule inet moat_portal input tcp dport 3990 acept\n');
    assert.notEqual(broken.status, 0, 'the check can fail');
  } finally {
    run(['ip', 'netns', 'del', ns]);
  }
});

test('an address added to a session: its counting elements and map entries to the objects the session has, no new objects', () => {
  const t = 'inet moat_portal';
  const added = checkClient({ ifname: 'lan0', mac: '02:00:00:00:00:10', ipv6: ['fd00:1::99'] });
  const limits = { bandwidthDown: 2_000_000, quotaBytes: 5_000_000n };
  assert.deepEqual([...renderAdd(t, added, limits), ...renderMapEntries(t, added, limits)], [
    'add element inet moat_portal up6 { "lan0" . 02:00:00:00:00:10 . fd00:1::99 }',
    'add element inet moat_portal down6 { "lan0" . fd00:1::99 }',
    'add element inet moat_portal lim_dn6 { "lan0" . fd00:1::99 : "ld_020000000010_lan0" }',
    'add element inet moat_portal qt_up6 { "lan0" . 02:00:00:00:00:10 . fd00:1::99 : "qt_020000000010_lan0" }',
    'add element inet moat_portal qt_dn6 { "lan0" . fd00:1::99 : "qt_020000000010_lan0" }',
  ]);
  // The session's login declared those objects; the same names.
  const login = renderLimits(t, checkClient({ ifname: 'lan0', mac: '02:00:00:00:00:10', ipv4: '10.1.0.10' }), limits);
  assert.ok(login.some((l) => l.startsWith('add limit inet moat_portal ld_020000000010_lan0 ')));
  assert.ok(login.some((l) => l.startsWith('add quota inet moat_portal qt_020000000010_lan0 ')));
});
