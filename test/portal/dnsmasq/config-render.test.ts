import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { MoatError } from '../../../src/core/errors.js';
import {
  DETECTION_NAMES,
  checkDnsmasqConfigArgv,
  parseLeases,
  renderDnsmasqConfig,
  renderPreloginDnsmasqConfig,
  type MainDnsmasqOptions,
} from '../../../src/portal/dnsmasq/index.js';
import { run } from '../../helpers/portal-netns.js';
import { haveCommand, needs } from '../../helpers/system.js';

const main: MainDnsmasqOptions = {
  interface: 'wlan0',
  gatewayV4: '10.1.0.1',
  gatewayV6: 'fd00:1::1',
  range: ['10.1.0.10', '10.1.0.250'],
  prefixV4: 24,
  leaseTime: 3600,
  leaseFile: '/var/db/moat-portal/dnsmasq.leases',
  captiveApiUrl: 'https://portal.example.net:4990/api/captive',
  domain: 'hotspot.lan',
  upstream: ['9.9.9.9', '2620:fe::fe#53'],
  gardenDomains: ['Example.org', 'pay.example.com'],
  table: 'moat_portal',
  portalHostname: 'portal.example.net',
};

function lines(s: string): string[] {
  return s.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
}

test('main instance: DHCP range, option 114 with the RFC 8908 API URL, resolver, nftset for the garden', () => {
  const l = lines(renderDnsmasqConfig(main));
  assert.deepEqual(l, [
    'port=53',
    'interface=wlan0',
    'except-interface=lo',
    'bind-dynamic',
    'no-hosts',
    'host-record=portal.example.net,10.1.0.1,fd00:1::1',
    'nftset=/example.org/4#inet#moat_portal#garden4,6#inet#moat_portal#garden6',
    'nftset=/pay.example.com/4#inet#moat_portal#garden4,6#inet#moat_portal#garden6',
    'no-resolv',
    'server=9.9.9.9',
    'server=2620:fe::fe#53',
    'domain=hotspot.lan',
    'local=/hotspot.lan/',
    'dhcp-leasefile=/var/db/moat-portal/dnsmasq.leases',
    'dhcp-range=10.1.0.10,10.1.0.250,255.255.255.0,3600s',
    'dhcp-authoritative',
    'dhcp-option=option:router,10.1.0.1',
    'dhcp-option=option:dns-server,10.1.0.1',
    'dhcp-option=114,"https://portal.example.net:4990/api/captive"',
  ]);
});

test('ipv6: router advertisements (ra-stateless) and stateless DHCPv6 with the DNS server and RFC 8910 option 103; dnsmasq accepts them', (t) => {
  const l = lines(renderDnsmasqConfig({ ...main, ipv6: true }));
  assert.deepEqual(l.slice(-4), [
    'enable-ra',
    'dhcp-range=::,constructor:wlan0,ra-stateless,3600s',
    'dhcp-option=option6:dns-server,[fd00:1::1]',
    'dhcp-option=option6:103,"https://portal.example.net:4990/api/captive"',
  ]);
  assert.ok(!lines(renderDnsmasqConfig(main)).some((x) => x.includes('option6')), 'off by default');
  assert.throws(() => renderDnsmasqConfig({ ...main, gatewayV6: undefined, ipv6: true }), (e: unknown) => e instanceof MoatError && e.code === 'MOAT_PORTAL_DNSMASQ_CONFIG');
  if (!needs(t, { dnsmasq: haveCommand('dnsmasq') })) return;
  const dir = mkdtempSync(join(tmpdir(), 'moat-dnsmasq-v6-'));
  try {
    const f = join(dir, 'v6.conf');
    writeFileSync(f, renderDnsmasqConfig({ ...main, ipv6: true, leaseFile: join(dir, 'leases') }));
    const r = run(checkDnsmasqConfigArgv('dnsmasq', f));
    assert.equal(r.status, 0, r.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('with PF the garden names go into one PF table with ipset= (dnsmasq fills PF tables on the BSDs); dnsmasq accepts the line', (t) => {
  const pf = { ...main, pfTable: 'moat_portal_dns' };
  const garden = (s: string): string[] => lines(s).filter((x) => /^(ipset|nftset)=/.test(x));
  const want = ['ipset=/example.org/moat_portal_dns', 'ipset=/pay.example.com/moat_portal_dns'];
  assert.deepEqual(garden(renderDnsmasqConfig(pf)), want);
  assert.deepEqual(garden(renderPreloginDnsmasqConfig({ ...pf, port: 5353 })), want);
  assert.throws(() => renderDnsmasqConfig({ ...main, pfTable: 'x'.repeat(32) }), (e: unknown) => e instanceof MoatError && e.code === 'MOAT_PORTAL_DNSMASQ_CONFIG');
  if (!needs(t, { dnsmasq: haveCommand('dnsmasq') })) return;
  const dir = mkdtempSync(join(tmpdir(), 'moat-dnsmasq-pf-'));
  try {
    const f = join(dir, 'pf.conf');
    writeFileSync(f, renderDnsmasqConfig({ ...pf, leaseFile: join(dir, 'leases') }));
    const r = run(checkDnsmasqConfigArgv('dnsmasq', f));
    assert.equal(r.status, 0, r.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pre-login instance: only garden and detection names go upstream; everything else is NXDOMAIN', () => {
  const l = lines(renderPreloginDnsmasqConfig({ ...main, port: 5353 }));
  assert.deepEqual(l.slice(0, 4), ['port=5353', 'listen-address=10.1.0.1', 'listen-address=fd00:1::1', 'bind-dynamic']);
  assert.ok(l.includes('no-resolv'));
  assert.ok(l.includes('server=/example.org/9.9.9.9'));
  assert.ok(l.includes('server=/captive.apple.com/2620:fe::fe#53'));
  for (const n of DETECTION_NAMES) assert.ok(l.includes(`server=/${n}/9.9.9.9`), n);
  assert.equal(l.at(-1), 'address=/#/');
  // Detection names must not open the garden: their HTTP has to reach the portal.
  assert.ok(!l.some((x) => x.startsWith('nftset=') && x.includes('apple')));
  assert.ok(!l.some((x) => x.startsWith('dhcp')));
  // With no upstream, it asks the main instance.
  const via = lines(renderPreloginDnsmasqConfig({ ...main, upstream: [], port: 5353, mainPort: 53 }));
  assert.ok(via.includes('server=/example.org/10.1.0.1#53'));
});

test('values that could break a dnsmasq line are refused with MOAT_PORTAL_DNSMASQ_CONFIG', () => {
  const bad: Partial<MainDnsmasqOptions>[] = [
    { interface: 'wlan0\ndhcp-script=/tmp/x' },
    { gatewayV4: '10.1.0.1\nserver=1.2.3.4' },
    { gardenDomains: ['example.org/#'] },
    { gardenDomains: ['a..b'] },
    { upstream: ['1.2.3.4#53#1'] },
    { upstream: ['resolver.example'] },
    { leaseFile: 'relative/leases' },
    { leaseFile: '/var/db/../etc/leases' },
    { leaseFile: '/tmp/x y' },
    { captiveApiUrl: 'http://portal.example.net/api' },
    { captiveApiUrl: 'https://portal.example.net/a"b' },
    { captiveApiUrl: `https://portal.example.net/${'a'.repeat(260)}` },
    { range: ['10.1.0.10', 'x'] },
    { table: 'moat portal' },
    { leaseTime: 30 },
  ];
  for (const b of bad) {
    assert.throws(() => renderDnsmasqConfig({ ...main, ...b }), (e: unknown) => e instanceof MoatError && e.code === 'MOAT_PORTAL_DNSMASQ_CONFIG', JSON.stringify(b));
  }
});

test('the rendered files pass dnsmasq --test', (t) => {
  if (!needs(t, { dnsmasq: haveCommand('dnsmasq') })) return;
  const dir = mkdtempSync(join(tmpdir(), 'moat-dnsmasq-'));
  try {
    const files = {
      main: renderDnsmasqConfig({ ...main, leaseFile: join(dir, 'leases'), pidFile: join(dir, 'pid') }),
      prelogin: renderPreloginDnsmasqConfig({ ...main, port: 5353 }),
    };
    for (const [name, text] of Object.entries(files)) {
      const f = join(dir, `${name}.conf`);
      writeFileSync(f, text);
      const r = run(checkDnsmasqConfigArgv('dnsmasq', f));
      assert.equal(r.status, 0, `${name}: ${r.stderr}`);
      assert.match(r.stderr + r.stdout, /syntax check OK/);
    }
    // And a file dnsmasq refuses is caught by the same check.
    const f = join(dir, 'bad.conf');
    writeFileSync(f, 'dhcp-range=nonsense\n');
    assert.notEqual(run(checkDnsmasqConfigArgv('dnsmasq', f)).status, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('lease file: IPv4 leases read, other lines skipped', () => {
  const text = [
    '1765000000 02:77:00:00:00:10 10.77.0.50 phone 01:02:77:00:00:00:10',
    '0 02:77:00:00:00:11 10.77.0.51 * *',
    'duid 00:01:00:01:2c:4f:1a:2b:02:77:00:00:00:01',
    '1765000000 1234 fd00:77::5 * 00:01',
    'garbage',
  ].join('\n');
  assert.deepEqual(parseLeases(text), [
    { expires: 1765000000, mac: '02:77:00:00:00:10', ipv4: '10.77.0.50', hostname: 'phone' },
    { expires: 0, mac: '02:77:00:00:00:11', ipv4: '10.77.0.51', hostname: undefined },
  ]);
});
