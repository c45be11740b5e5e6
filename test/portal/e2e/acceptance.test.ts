// Issue 13's acceptance, end to end: clients in namespaces with a real DHCP
// client and Debian's chromium, `moat portal run` in the gateway namespace
// with dnsmasq and nftables, freeradius and servers in the wan namespace.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { DNS_QUERY, LAB, TCP_DOWNLOAD, TCP_SINK_SERVER, TCP_SOURCE_SERVER, UDP_ECHO_SERVER, TCP_CONNECT, UDP_PING, nodeIn, serveIn } from '../../helpers/portal-netns.js';
import { haveCommand, needs } from '../../helpers/system.js';
import { DOWNLOAD_PROGRESS, SECRET, SLOW_DOWNLOAD, jsonLogon as labJsonLogon, labRequirements, makeE2eLab, progress, radclient as labRadclient, resultOf, sleep, startRadvd, until, type E2eLab } from './portal-lab.js';

const requirements = {
  ...labRequirements(),
  'chromium (apt-get install chromium)': haveCommand('/usr/bin/chromium'),
};

const USERS = [
  { name: 'alice', password: 'wonderland' },
  { name: 'bob', password: 'builder', reply: ['Session-Timeout = 4'] },
  { name: 'carol', password: 'idle-user', reply: ['Idle-Timeout = 3'] },
  { name: 'dave', password: 'quota-user', reply: ['ChilliSpot-Max-Total-Octets = 2000000'] },
  { name: 'erin', password: 'slow-user', reply: ['WISPr-Bandwidth-Max-Down = 2000000'] },
  // MAC authentication: User-Name and password are the MAC, as CoovaChilli sends them.
  { name: '02-77-00-00-00-12', password: '02-77-00-00-00-12' },
];

let e: E2eLab | undefined;
const WAN_TCP = 9000;
const WAN_UDP = 9001;
const WAN_SOURCE = 9002;

function lab(): E2eLab {
  assert.ok(e, 'lab not set up');
  return e;
}

before(async () => {
  if (Object.values(requirements).some((ok) => !ok)) return;
  e = await makeE2eLab({ clients: 3, users: USERS, session: '  interim-interval: 4\n' });
  await serveIn(e.lab.wan, TCP_SINK_SERVER, [String(WAN_TCP)]);
  await serveIn(e.lab.wan, UDP_ECHO_SERVER, [String(WAN_UDP)]);
  await serveIn(e.lab.wan, TCP_SOURCE_SERVER, [String(WAN_SOURCE)]);
  await e.startDaemon();
});

after(async () => {
  await e?.destroy();
});

function tcpToWan(i: number, limit = 1500): { ok: boolean; code?: string } {
  return nodeIn(lab().lab.clients[i] ?? '', TCP_CONNECT, [LAB.wanV4, String(WAN_TCP), String(limit)]);
}

/** The gateway's table, for failure messages. */
function nftState(): string {
  return lab().in(lab().lab.gw, ['nft', 'list', 'table', 'inet', 'moat_e2e']).stdout;
}

function ping(i: number, to: string): boolean {
  return lab().in(lab().lab.clients[i] ?? '', ['ping', '-c', '1', '-W', '1', to]).status === 0;
}

async function sessionsFor(user: string): Promise<Map<string, string[]>[]> {
  const all = await lab().radius.detailRecords();
  return all.filter((r) => r.get('User-Name')?.[0] === user);
}

function one(r: Map<string, string[]>, k: string): string {
  return r.get(k)?.[0] ?? '';
}

/** Octets of a record with its gigawords. */
function octets(r: Map<string, string[]>, dir: 'Input' | 'Output'): number {
  return Number(one(r, `Acct-${dir}-Octets`) || '0') + Number(one(r, `Acct-${dir}-Gigawords`) || '0') * 2 ** 32;
}

function jsonLogon(i: number, user: string, password: string): ReturnType<typeof labJsonLogon> {
  return labJsonLogon(lab(), i, user, password);
}

function radclient(kind: 'disconnect' | 'coa', attrs: string, secret = SECRET): { status: number; out: string } {
  return labRadclient(lab(), kind, attrs, secret);
}

test('1: DHCP lease with option 114; before login TCP, UDP and ICMP to the wan fail; the gateway answers pings', async (t) => {
  if (!needs(t, requirements)) return;
  const { ip, lease } = await lab().dhcp(0);
  assert.match(ip, /^10\.77\.0\.\d+$/);
  assert.match(lease, /option captive-portal-url "https:\/\/portal\.lab:4990\/api";/);
  assert.equal(ping(0, LAB.gwV4), true, 'the gateway answers pings');
  assert.equal(ping(0, LAB.wanV4), false, 'ICMP to the wan fails');
  assert.equal(tcpToWan(0).ok, false, 'TCP to the wan fails');
  const udp: { ok: boolean } = nodeIn(lab().lab.clients[0] ?? '', UDP_PING, [LAB.wanV4, String(WAN_UDP), '1500']);
  assert.equal(udp.ok, false, 'UDP to the wan fails');
});

test('query garden add/del opens and closes an address before login', (t) => {
  if (!needs(t, requirements)) return;
  assert.equal(tcpToWan(0).ok, false);
  const add = lab().query('garden', 'add', LAB.wanV4);
  assert.equal(add.status, 0, add.stderr);
  assert.equal(tcpToWan(0).ok, true, 'the garden address is open before login');
  assert.equal(lab().query('garden', 'del', LAB.wanV4).status, 0);
  assert.equal(tcpToWan(0).ok, false, 'and closed again');
});

/** A resolver in the wan that answers every TXT question (what a DNS tunnel needs). */
const TXT_SERVER = `
import dgram from 'node:dgram';
const s = dgram.createSocket('udp4');
s.on('message', (q, r) => {
  if (q.length < 12) return;
  let i = 12;
  while (i < q.length && q[i] !== 0) i += q[i] + 1;
  const question = q.subarray(12, i + 5);
  const head = Buffer.from([q[0], q[1], 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]);
  const txt = Buffer.from('tunnel');
  const answer = Buffer.concat([Buffer.from([0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 60, 0, txt.length + 1, txt.length]), txt]);
  s.send(Buffer.concat([head, question, answer]), r.port, r.address);
});
s.bind(53, '${LAB.wanV4}', () => console.log('ready'));
`;

test('6: before login a TXT query to an outside resolver gets nothing; after login it is answered', async (t) => {
  if (!needs(t, requirements)) return;
  await serveIn(lab().lab.wan, TXT_SERVER);
  const c0 = lab().lab.clients[0] ?? '';
  const before: { ok: boolean; answers?: string[][] } = nodeIn(c0, DNS_QUERY, [LAB.wanV4, 'x.tunnel.example', 'TXT']);
  assert.equal(before.ok, false, JSON.stringify(before));
  const login = jsonLogon(0, 'alice', 'wonderland');
  assert.equal(login.clientState, 1, login.message);
  const after: { ok: boolean; answers?: string[][] } = nodeIn(c0, DNS_QUERY, [LAB.wanV4, 'x.tunnel.example', 'TXT']);
  assert.deepEqual(after, { ok: true, answers: [['tunnel']] });
  assert.equal(lab().query('logout', '02:77:00:00:00:10').status, 0);
});

test('2: chromium logs in on the built-in page (CHAP, then PAP after a SIGHUP reload) and lands on the URL it asked for; a wrong password opens nothing', async (t) => {
  if (!needs(t, requirements)) return;
  const wrong = await lab().browser(0, { url: 'http://198.51.100.2/first?x=1', user: 'alice', password: 'not-her-password' });
  assert.equal(wrong.hasForm, true, JSON.stringify(wrong));
  assert.match(String(wrong.loginUrl), /^http:\/\/portal\.lab:3990\/login\?res=notyet&/);
  assert.match(String(wrong.text), /Login failed|reject/i);
  assert.equal(tcpToWan(0).ok, false);

  const chap = await lab().browser(0, { url: 'http://198.51.100.2/first?x=1', user: 'alice', password: 'wonderland' });
  assert.equal(chap.finalUrl, 'http://198.51.100.2/first?x=1', JSON.stringify(chap));
  assert.match(String(chap.text), /wan page \/first\?x=1/);
  assert.equal(tcpToWan(0).ok, true);
  assert.equal(lab().query('logout', '02:77:00:00:00:10').status, 0);
  assert.equal(tcpToWan(0).ok, false, 'logged out: the wan is closed again');

  lab().writeConfig({ method: 'pap' });
  process.kill(lab().daemonPid ?? 0, 'SIGHUP');
  assert.ok(await until(() => lab().log().includes('reloaded file='), 5000), lab().log());
  const pap = await lab().browser(0, { url: 'http://198.51.100.2/second', user: 'alice', password: 'wonderland' });
  assert.equal(pap.finalUrl, 'http://198.51.100.2/second', JSON.stringify(pap));
  assert.equal(tcpToWan(0).ok, true);
  const records = await sessionsFor('alice');
  assert.ok(records.some((r) => one(r, 'Acct-Status-Type') === 'Start'));
  assert.equal(lab().query('logout', '02:77:00:00:00:10').status, 0);
});

test('3: Start, Interim-Update and Stop records count a 10 MB download within 1%', async (t) => {
  if (!needs(t, requirements)) return;
  const c0 = lab().lab.clients[0] ?? '';
  const login = jsonLogon(0, 'alice', 'wonderland');
  assert.equal(login.clientState, 1, JSON.stringify(login));
  const id = login.session?.sessionId ?? '';
  const rx = (): { bytes: number; packets: number } => {
    const s = JSON.parse(lab().in(c0, ['ip', '-j', '-s', 'link', 'show', 'eth0']).stdout) as { stats64: { rx: { bytes: number; packets: number } } }[];
    return s[0]?.stats64.rx ?? { bytes: 0, packets: 0 };
  };
  const before0 = rx();
  const dl = lab().background(0, SLOW_DOWNLOAD, [`http://${LAB.wanV4}/bytes/10485760`, '20000']);
  const r = await resultOf(dl);
  assert.equal(r.ok, true, JSON.stringify(r));
  assert.equal(r.bytes, 10485760);
  const after0 = rx();
  // What reached the client at the IP layer: interface bytes less the 14-byte Ethernet headers.
  const ipBytes = after0.bytes - before0.bytes - 14 * (after0.packets - before0.packets);
  await sleep(5000); // one interim (every 4 s) after the download
  assert.equal(lab().query('logout', id).status, 0);
  assert.ok(await until(async () => (await sessionsFor('alice')).some((x) => one(x, 'Acct-Session-Id') === id && one(x, 'Acct-Status-Type') === 'Stop'), 5000));
  const mine = (await sessionsFor('alice')).filter((x) => one(x, 'Acct-Session-Id') === id);
  const kinds = mine.map((x) => one(x, 'Acct-Status-Type'));
  assert.equal(kinds[0], 'Start');
  assert.ok(kinds.includes('Interim-Update'), kinds.join());
  assert.equal(kinds.at(-1), 'Stop');
  const stopRec = mine.at(-1);
  assert.ok(stopRec);
  assert.equal(one(stopRec, 'Acct-Terminate-Cause'), 'Admin-Reset');
  const down = octets(stopRec, 'Output');
  assert.ok(Math.abs(down - ipBytes) / ipBytes < 0.01, `Acct-Output-Octets ${String(down)} vs ${String(ipBytes)} IP bytes received`);
  assert.ok(down >= 10485760);
});

test('5: Disconnect-Request ends the session and its download; CoA changes the bandwidth; bad secret gets no answer; unknown session gets NAK 503', async (t) => {
  if (!needs(t, requirements)) return;
  const login = jsonLogon(0, 'alice', 'wonderland');
  assert.equal(login.clientState, 1, login.message);
  const id = login.session?.sessionId ?? '';

  const coa = radclient('coa', `Acct-Session-Id = "${id}", WISPr-Bandwidth-Max-Down = 1000000`);
  assert.match(coa.out, /CoA-ACK/, coa.out);
  assert.match(lab().query('show', id).stdout, /^bandwidth-down=1000000$/m);

  const noAnswer = radclient('disconnect', `Acct-Session-Id = "${id}"`, 'wrong-secret-123');
  assert.notEqual(noAnswer.status, 0);
  assert.doesNotMatch(noAnswer.out, /Disconnect-(ACK|NAK)/);
  assert.match(lab().query('show', id).stdout, /session-id=/, 'still online after the bad-secret request');

  const unknown = radclient('disconnect', 'Acct-Session-Id = "no-such-session"');
  assert.match(unknown.out, /Disconnect-NAK/);
  assert.match(unknown.out, /Error-Cause = Session-Context-Not-Found/);

  const bytes = progress(lab().background(0, DOWNLOAD_PROGRESS, [LAB.wanV4, String(WAN_SOURCE), '8']));
  await sleep(2000);
  const before = bytes();
  assert.ok(before > 100_000, `the download runs: ${String(before)} bytes`);
  const dis = radclient('disconnect', `Acct-Session-Id = "${id}"`);
  assert.match(dis.out, /Disconnect-ACK/, dis.out);
  await sleep(1000);
  const cut = bytes();
  await sleep(2000);
  assert.equal(bytes(), cut, `the download goes on after the Disconnect: ${String(cut)} then ${String(bytes())} bytes`);
  assert.equal(tcpToWan(0).ok, false);
  assert.ok(await until(async () => (await sessionsFor('alice')).some((x) => one(x, 'Acct-Session-Id') === id && one(x, 'Acct-Terminate-Cause') === 'Admin-Reset'), 5000));
});

test('7: kill -9 during a download: the download goes on; after a restart accounting goes on with the same id, no second Start', async (t) => {
  if (!needs(t, requirements)) return;
  const login = jsonLogon(0, 'alice', 'wonderland');
  assert.equal(login.clientState, 1, login.message);
  const id = login.session?.sessionId ?? '';
  const dl = lab().background(0, TCP_DOWNLOAD, [LAB.wanV4, String(WAN_SOURCE), '7']);
  const result = resultOf(dl);
  await sleep(1000);
  await lab().killDaemon();
  await sleep(1500);
  await lab().startDaemon();
  const r = await result;
  assert.equal(r.ok, true, `the download went on: ${JSON.stringify(r)}`);
  assert.ok(Number(r.bytes) > 10_000_000, JSON.stringify(r));
  await sleep(5000);
  assert.equal(lab().query('logout', id).status, 0);
  assert.ok(await until(async () => (await sessionsFor('alice')).some((x) => one(x, 'Acct-Session-Id') === id && one(x, 'Acct-Status-Type') === 'Stop'), 5000));
  const mine = (await sessionsFor('alice')).filter((x) => one(x, 'Acct-Session-Id') === id);
  assert.equal(mine.filter((x) => one(x, 'Acct-Status-Type') === 'Start').length, 1);
  assert.ok(mine.filter((x) => one(x, 'Acct-Status-Type') === 'Interim-Update').length >= 1);
  const downs = mine.map((x) => octets(x, 'Output'));
  for (let i = 1; i < downs.length; i++) assert.ok((downs[i] ?? 0) >= (downs[i - 1] ?? 0), `counters only grow: ${downs.join(' ')}`);
  assert.ok((downs.at(-1) ?? 0) >= Number(r.bytes));
});

test('9: a MAC-authenticated client is online without seeing the page', async (t) => {
  if (!needs(t, requirements)) return;
  lab().writeConfig({ method: 'pap', extra: 'mac-auth:\n  enabled: true\n' });
  process.kill(lab().daemonPid ?? 0, 'SIGHUP');
  assert.ok(await until(() => (lab().log().match(/reloaded file=/g) ?? []).length >= 2, 5000));
  const { ip } = await lab().dhcp(2);
  assert.match(ip, /^10\.77\.0\./);
  assert.ok(await until(() => tcpToWan(2, 500).ok, 15_000), `no MAC login:\n${lab().log()}`);
  assert.match(lab().query('list').stdout, /02:77:00:00:00:12 \S+ pass \S+ mac 02-77-00-00-00-12 /);
});

test('SIGHUP with a bad portal.yaml keeps the running configuration', async (t) => {
  if (!needs(t, requirements)) return;
  const good = readFileSync(lab().configFile, 'utf8');
  writeFileSync(lab().configFile, good.replace('address: 10.77.0.1/24', 'address: 10.77.0.1/99'));
  const failed = (lab().log().match(/reload failed/g) ?? []).length;
  process.kill(lab().daemonPid ?? 0, 'SIGHUP');
  assert.ok(await until(() => (lab().log().match(/reload failed/g) ?? []).length > failed, 5000), lab().log().slice(-1000));
  assert.match(lab().log(), /reload failed; keeping the running configuration error="[^"]*portal\.yaml:3:10: address: must be an IPv4 address/);
  // Still serving, with the old settings (MAC authentication on, from the last good reload).
  const login = jsonLogon(0, 'alice', 'wonderland');
  assert.equal(login.clientState, 1, login.message);
  assert.equal(lab().query('logout', '02:77:00:00:00:10').status, 0);
  writeFileSync(lab().configFile, good);
});

test('metrics on a local port, and a status line on SIGUSR1', async (t) => {
  if (!needs(t, requirements)) return;
  // Counters start with the process (item 7 restarted it): a reject and a login of our own.
  assert.equal(jsonLogon(0, 'alice', 'metrics-wrong-pw').clientState, 0);
  assert.equal(jsonLogon(0, 'alice', 'wonderland').clientState, 1);
  assert.equal(lab().query('logout', '02:77:00:00:00:10').status, 0);
  const src = `
import http from 'node:http';
http.get('http://127.0.0.1:9120/metrics', (res) => { let b = ''; res.on('data', (c) => (b += c)); res.on('end', () => console.log(JSON.stringify({ type: res.headers['content-type'], body: b }))); });`;
  const m: { type: string; body: string } = nodeIn(lab().lab.gw, src);
  assert.match(m.type, /^text\/plain; version=0\.0\.4/);
  assert.match(m.body, /^moat_portal_sessions \d+$/m);
  assert.match(m.body, /^moat_portal_logins_total\{result="accepted"\} [1-9]\d*$/m);
  assert.match(m.body, /^moat_portal_logins_total\{result="rejected"\} [1-9]\d*$/m);
  assert.match(m.body, /^moat_portal_radius_rtt_seconds_count\{type="auth"\} [1-9]\d*$/m);
  assert.match(m.body, /^moat_portal_bytes_total\{direction="down"\} \d+$/m);
  process.kill(lab().daemonPid ?? 0, 'SIGUSR1');
  assert.ok(await until(() => /moat portal\[\d+\]: \d+ online, \d+ logins accepted, \d+ rejected, \d+ RADIUS timeouts, dnsmasq up; [\d.]+u [\d.]+s [\d.]+MB rss/.test(lab().log()), 3000), lab().log().slice(-2000));
  // No password or secret in the daemon's log, after all those logins.
  assert.doesNotMatch(lab().log(), /wonderland|not-her-password|metrics-wrong-pw|quota-user|testing123456/);
});

test('4: Session-Timeout and Idle-Timeout end sessions with the matching cause; a quota cuts near its limit; 2 Mbit/s within 20%', async (t) => {
  if (!needs(t, requirements)) return;
  for (const [user, password, cause] of [['bob', 'builder', 'Session-Timeout'], ['carol', 'idle-user', 'Idle-Timeout']] as const) {
    const login = jsonLogon(0, user, password);
    assert.equal(login.clientState, 1, user);
    const id = login.session?.sessionId ?? '';
    assert.ok(
      await until(async () => (await sessionsFor(user)).some((x) => one(x, 'Acct-Session-Id') === id && one(x, 'Acct-Status-Type') === 'Stop'), 12_000),
      `${user} not stopped`,
    );
    const stopRec = (await sessionsFor(user)).find((x) => one(x, 'Acct-Session-Id') === id && one(x, 'Acct-Status-Type') === 'Stop');
    assert.equal(stopRec && one(stopRec, 'Acct-Terminate-Cause'), cause);
    assert.equal(tcpToWan(0).ok, false);
  }

  const s = jsonLogon(0, 'erin', 'slow-user');
  assert.equal(s.clientState, 1);
  const slow = await resultOf(lab().background(0, TCP_DOWNLOAD, [LAB.wanV4, String(WAN_SOURCE), '5']));
  const mbit = (Number(slow.bytes) * 8) / (Number(slow.ms) / 1000) / 1e6;
  assert.ok(Math.abs(mbit - 2) / 2 < 0.2, `measured ${mbit.toFixed(2)} Mbit/s ${JSON.stringify(slow)}\n${nftState()}`);
  lab().query('logout', '02:77:00:00:00:10');
  const q = jsonLogon(0, 'dave', 'quota-user');
  assert.equal(q.clientState, 1);
  const cut = await resultOf(lab().background(0, TCP_DOWNLOAD, [LAB.wanV4, String(WAN_SOURCE), '5']));
  assert.ok(Number(cut.bytes) > 1_500_000 && Number(cut.bytes) < 2_200_000, `quota of 2,000,000 octets let ${String(cut.bytes)} bytes through`);
  assert.ok(await until(() => !lab().query('list').stdout.includes(' dave '), 5000), `dave still online:\n${lab().query('list').stdout}`);
  const daveStop = (await sessionsFor('dave')).find((x) => one(x, 'Acct-Status-Type') === 'Stop');
  assert.equal(daveStop && one(daveStop, 'Acct-Terminate-Cause'), 'NAS-Request');
});

test('6: a client copying the MAC or the IP of an authorised client gets nothing', async (t) => {
  if (!needs(t, requirements)) return;
  lab().query('logout', '02:77:00:00:00:10'); // whatever an earlier test left
  const login = jsonLogon(0, 'alice', 'wonderland');
  assert.equal(login.clientState, 1, login.message);
  const ip0 = (/^ip=(\S+)$/m.exec(lab().query('show', '02:77:00:00:00:10').stdout))?.[1] ?? '';
  const c1 = lab().lab.clients[1] ?? '';
  // Same MAC, another address.
  lab().in(c1, ['ip', 'link', 'set', 'eth0', 'address', '02:77:00:00:00:10']);
  lab().lab.addressClient(1, '10.77.0.201');
  assert.equal(tcpToWan(1).ok, false, 'MAC copy');
  // Its own MAC, the same address (the first client keeps its own).
  lab().in(c1, ['ip', 'addr', 'flush', 'dev', 'eth0']);
  lab().in(c1, ['ip', 'link', 'set', 'eth0', 'address', '02:77:00:00:00:11']);
  lab().lab.addressClient(1, ip0);
  assert.equal(tcpToWan(1).ok, false, 'IP copy');
  // The copy also took the gateway's ARP entry for that address; once it is gone the real client is served again.
  lab().in(c1, ['ip', 'addr', 'flush', 'dev', 'eth0']);
  lab().in(lab().lab.gw, ['ip', 'neigh', 'flush', 'dev', LAB.lan]);
  const back = await until(() => tcpToWan(0, 500).ok, 5000);
  const g = lab().lab.gw;
  assert.ok(back, `the real client is online again: ${JSON.stringify(tcpToWan(0))}\n${lab().in(g, ['ip', 'neigh']).stdout}\n${lab().in(g, ['bridge', 'fdb', 'show', 'br', LAB.lan]).stdout}\n${lab().query('list').stdout}\n${nftState()}`);
  lab().query('logout', '02:77:00:00:00:10');
});

test("6: IPv6 (radvd on the gateway): nothing before login; after it the session's IPv6 address is let through", async (t) => {
  if (!needs(t, { ...requirements, 'radvd (apt-get install radvd)': haveCommand('radvd') })) return;
  startRadvd(lab());
  const c0 = lab().lab.clients[0] ?? '';
  lab().query('logout', '02:77:00:00:00:10');
  const v6 = (): string => /inet6 (fd00:77:\S+)\/64 scope global/.exec(lab().in(c0, ['ip', '-6', 'addr', 'show', 'dev', 'eth0']).stdout)?.[1] ?? '';
  assert.ok(await until(() => v6() !== '', 15_000), 'no SLAAC address from radvd');
  const tcp6 = (limit = 1500): { ok: boolean } => nodeIn(c0, TCP_CONNECT, [LAB.wanV6, String(WAN_TCP), String(limit)]);
  assert.equal(tcp6().ok, false, 'IPv6 to the wan before login');
  // The gateway learns the address when the client talks to it (ICMPv6 to the gateway is allowed before login).
  lab().in(c0, ['ping', '-6', '-c', '1', '-W', '1', LAB.gwV6]);
  const login = jsonLogon(0, 'alice', 'wonderland');
  assert.equal(login.clientState, 1, login.message);
  assert.match(lab().query('show', '02:77:00:00:00:10').stdout, new RegExp(`^ipv6=${v6()}$`, 'm'));
  assert.ok(await until(() => tcp6(500).ok, 5000), `IPv6 after login:\n${nftState()}`);
  assert.equal(lab().query('logout', '02:77:00:00:00:10').status, 0);
  assert.equal(tcp6().ok, false, 'IPv6 after logout');
});

test('a trusted MAC is online without RADIUS', async (t) => {
  if (!needs(t, requirements)) return;
  lab().writeConfig({ method: 'pap', extra: 'mac-auth:\n  trusted: [02-77-00-00-00-11]\n' });
  const reloads = (lab().log().match(/reloaded file=/g) ?? []).length;
  process.kill(lab().daemonPid ?? 0, 'SIGHUP');
  assert.ok(await until(() => (lab().log().match(/reloaded file=/g) ?? []).length > reloads, 5000));
  const c1 = lab().lab.clients[1] ?? '';
  lab().in(c1, ['ip', 'addr', 'flush', 'dev', 'eth0']);
  lab().in(c1, ['ip', 'link', 'set', 'eth0', 'address', '02:77:00:00:00:11']);
  const { ip } = await lab().dhcp(1);
  assert.match(ip, /^10\.77\.0\./);
  assert.ok(await until(() => tcpToWan(1, 500).ok, 15_000), `trusted MAC not let through:\n${lab().query('list').stdout}`);
  assert.match(lab().query('list').stdout, /^02:77:00:00:00:11 \S+ pass \S+ trusted 02-77-00-00-00-11 /m);
});
