// DHCP and DNS of the portal against real peers in namespaces: moat's
// nftables table and two dnsmasq instances in the gateway namespace, a real
// DHCP client (ISC dhclient) in the client namespace, and an "outside"
// resolver (another dnsmasq) in the wan namespace.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { renderDnsmasqConfig, renderPreloginDnsmasqConfig, superviseDnsmasq, type DnsmasqSupervisor } from '../../../src/portal/dnsmasq/index.js';
import { createFirewall, spawnRunner } from '../../../src/portal/firewall/index.js';
import { DNS_QUERY, HTTP_GET, HTTP_SERVER, LAB, makePortalLab, mustRun, nodeIn, run, serveIn, stop } from '../../helpers/portal-netns.js';
import { haveCommand, haveNetns, needs } from '../../helpers/system.js';

const API = 'https://10.77.0.1:4990/api/captive';
const GARDEN_ADDR = '198.51.100.80';

interface Dns {
  ok: boolean;
  answers?: unknown[];
  code?: string;
}

test('dnsmasq with moat: lease with option 114, pre-login resolver, walled garden via nftset', { timeout: 120_000 }, async (t) => {
  if (!needs(t, { 'root and network namespaces': haveNetns(), dnsmasq: haveCommand('dnsmasq'), dhclient: haveCommand('dhclient'), nft: haveCommand('nft') })) return;
  const lab = makePortalLab(1);
  const dir = mkdtempSync(join(tmpdir(), 'moat-portal-dns-'));
  chmodSync(dir, 0o755); // dnsmasq drops to nobody
  const sups: DnsmasqSupervisor[] = [];
  const servers: ChildProcess[] = [];
  let dhclientPid: number | undefined;
  const table = `moat_d${String(process.pid)}`;
  const c0 = lab.clients[0] ?? '';
  try {
    mustRun(['ip', '-n', lab.wan, 'addr', 'add', `${GARDEN_ADDR}/24`, 'dev', 'eth0']);
    const fw = createFirewall({
      backend: 'nft',
      table,
      lanInterface: LAB.lan,
      gatewayV4: LAB.gwV4,
      prefixV4: LAB.prefixV4,
      webPort: 3990,
      httpsPort: 4990,
      preloginDnsPort: 5353,
      runner: spawnRunner({ prefix: lab.inNs(lab.gw, []) }),
    });
    await fw.setup();

    // The outside world's resolver: it knows a TXT record a tunnel would use, the garden's name and a detection name.
    const outsideConf = join(dir, 'outside.conf');
    writeFileSync(
      outsideConf,
      [
        'port=53',
        `listen-address=${LAB.wanV4}`,
        'bind-interfaces',
        'no-resolv',
        'no-hosts',
        'log-queries',
        'txt-record=tunnel.test,"secret-data"',
        `address=/garden.test/${GARDEN_ADDR}`,
        `address=/captive.apple.com/${LAB.wanV4}`,
        `address=/elsewhere.test/${LAB.wanV4}`,
        '',
      ].join('\n'),
    );
    const outside = superviseDnsmasq({ configFile: outsideConf, prefix: lab.inNs(lab.wan, []), name: 'outside' });
    sups.push(outside);
    await outside.start();

    const common = { interface: LAB.lan, gatewayV4: LAB.gwV4, table, gardenDomains: ['garden.test'], portalHostname: 'portal.hotspot.test' };
    const mainConf = join(dir, 'main.conf');
    writeFileSync(
      mainConf,
      renderDnsmasqConfig({ ...common, range: ['10.77.0.50', '10.77.0.99'], prefixV4: 24, leaseTime: 600, leaseFile: join(dir, 'leases'), pidFile: join(dir, 'main.pid'), captiveApiUrl: API, upstream: [LAB.wanV4] }),
    );
    const preConf = join(dir, 'prelogin.conf');
    writeFileSync(preConf, renderPreloginDnsmasqConfig({ ...common, port: 5353, pidFile: join(dir, 'prelogin.pid'), upstream: [] }));
    const main = superviseDnsmasq({ configFile: mainConf, prefix: lab.inNs(lab.gw, []), name: 'dnsmasq', backoffMs: 100 });
    sups.push(main);
    await main.start();
    const pre = superviseDnsmasq({ configFile: preConf, prefix: lab.inNs(lab.gw, []), name: 'dnsmasq-prelogin' });
    sups.push(pre);
    await pre.start();
    servers.push(await serveIn(lab.wan, HTTP_SERVER, ['80', 'wan']));
    servers.push(await serveIn(lab.gw, HTTP_SERVER, ['3990', 'portal']));

    await t.test('a real DHCP client gets a lease with option 114 carrying the RFC 8908 API URL', () => {
      const script = join(dir, 'dhclient-script');
      // A fixed script (no outside string in it): configure the lease and keep the environment dhclient passes.
      writeFileSync(
        script,
        `#!/bin/sh\nenv > ${dir}/dhclient.$reason\ncase "$reason" in BOUND|RENEW|REBIND|REBOOT) ip addr add "$new_ip_address/$new_subnet_mask" dev "$interface"; ip route replace default via "$new_routers" ;; esac\nexit 0\n`,
      );
      chmodSync(script, 0o755);
      const conf = join(dir, 'dhclient.conf');
      // dhcp-options(5) names option 114 default-url; RFC 8910 reassigned it to the captive-portal URI.
      writeFileSync(conf, 'request subnet-mask, routers, domain-name-servers, default-url;\ntimeout 20;\n');
      const r = run(lab.inNs(c0, ['dhclient', '-4', '-1', '-sf', script, '-cf', conf, '-lf', join(dir, 'dhclient.leases'), '-pf', join(dir, 'dhclient.pid'), 'eth0']), 40_000);
      assert.equal(r.status, 0, r.stderr);
      if (existsSync(join(dir, 'dhclient.pid'))) dhclientPid = Number(readFileSync(join(dir, 'dhclient.pid'), 'utf8').trim());
      const env = readFileSync(join(dir, 'dhclient.BOUND'), 'utf8');
      assert.match(env, new RegExp(`^new_default_url='?${API.replace(/[.:/]/g, '\\$&')}'?$`, 'm'));
      assert.match(env, /^new_ip_address='?10\.77\.0\.(5\d|[6-9]\d)'?$/m);
      assert.match(env, /^new_domain_name_servers='?10\.77\.0\.1'?$/m);
      assert.match(readFileSync(join(dir, 'leases'), 'utf8'), / 02:77:00:00:00:10 10\.77\.0\./);
    });

    const query = (server: string, name: string, type: string): Dns => nodeIn<Dns>(c0, DNS_QUERY, [server, name, type]);
    const outsideCount = (name: string): number => outside.log().filter((l) => l.includes(`query[`) && l.includes(name)).length;
    const outsideSaw = (name: string): boolean => outsideCount(name) > 0;

    await t.test('before login, a TXT query to an outside resolver gets nothing and never reaches it', () => {
      const r = query(LAB.wanV4, 'tunnel.test', 'TXT');
      assert.equal(r.ok, false, JSON.stringify(r));
      assert.equal(r.code, 'ENOTFOUND');
      assert.equal(outsideSaw('tunnel.test'), false);
      assert.equal(query(LAB.gwV4, 'elsewhere.test', 'A').ok, false, 'a name outside the garden is not resolved');
    });

    await t.test('before login, garden and detection names resolve, and the garden address opens by itself', () => {
      assert.deepEqual(query(LAB.gwV4, 'portal.hotspot.test', 'A').answers, [LAB.gwV4]);
      assert.deepEqual(query(LAB.gwV4, 'captive.apple.com', 'A').answers, [LAB.wanV4]);
      // Before anyone asked for the garden name, its address is behind the portal like any other.
      const before = nodeIn<{ body?: string }>(c0, HTTP_GET, [GARDEN_ADDR, '80', '3000']);
      assert.match(before.body ?? '', /^portal /);
      assert.deepEqual(query(LAB.wanV4, 'garden.test', 'A').answers, [GARDEN_ADDR]);
      const set = run(lab.inNs(lab.gw, ['nft', 'list', 'set', 'inet', table, 'garden4'])).stdout;
      assert.match(set, new RegExp(GARDEN_ADDR.replace(/\./g, '\\.')));
      const after = nodeIn<{ body?: string }>(c0, HTTP_GET, [GARDEN_ADDR, '80', '3000']);
      assert.match(after.body ?? '', /^wan /, 'garden address reached directly');
      const other = nodeIn<{ body?: string }>(c0, HTTP_GET, [LAB.wanV4, '80', '3000']);
      assert.match(other.body ?? '', /^portal /, 'a detection name does not open the garden');
    });

    await t.test('after login the same TXT query reaches the outside resolver', async () => {
      const ip = /^new_ip_address='?([\d.]+)'?$/m.exec(readFileSync(join(dir, 'dhclient.BOUND'), 'utf8'))?.[1] ?? '';
      await fw.authorize({ ifname: LAB.lan, mac: lab.mac(0), ipv4: ip });
      assert.deepEqual(query(LAB.wanV4, 'tunnel.test', 'TXT').answers, [['secret-data']]);
      // Its log line arrives through a pipe: give it a moment.
      for (let i = 0; i < 20 && !outsideSaw('tunnel.test'); i++) await sleep(50);
      assert.equal(outsideSaw('tunnel.test'), true);
      // Exactly once: the query made before login never arrived, even late.
      assert.equal(outsideCount('tunnel.test'), 1);
    });

    await t.test('the supervisor restarts a killed dnsmasq, and stop() ends it', async () => {
      const pid = main.pid;
      assert.ok(pid !== undefined && main.running);
      // The child is `ip netns exec`, which execs dnsmasq: same pid.
      process.kill(pid, 'SIGKILL');
      const restarted = (): boolean => main.restarts > 0 && main.running && main.pid !== pid;
      for (let i = 0; i < 50 && !restarted(); i++) await sleep(100);
      assert.equal(main.restarts, 1);
      assert.ok(main.running);
      for (let i = 0; i < 20 && !query(LAB.gwV4, 'portal.hotspot.test', 'A').ok; i++) await sleep(100);
      assert.ok(main.log().some((l) => l.includes('started, version')));
      await main.stop();
      assert.equal(main.running, false);
      assert.equal(query(LAB.gwV4, 'portal.hotspot.test', 'A').ok, false, 'nothing answers on :53 after stop');
    });
  } finally {
    if (dhclientPid !== undefined) {
      try {
        process.kill(dhclientPid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const s of sups) await s.stop();
    for (const s of servers) await stop(s);
    lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});
