// End to end, the services around the login: the RFC 8908 API over HTTPS at
// the URL DHCP option 114 announces, syslog to a real rsyslogd, --pidfile,
// resets for a client's connections when RADIUS disconnects it, and IPv6
// addresses a client starts using after login joining its session.
import assert from 'node:assert/strict';
import { existsSync, lstatSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DELAYED_SOURCE, IDLE_WATCH, LAB, TCP_CONNECT, TCP_SOURCE_SERVER, nodeIn, serveIn } from '../../helpers/portal-netns.js';
import { startRsyslog, type Rsyslog } from '../../helpers/rsyslog.js';
import { haveCommand, needs } from '../../helpers/system.js';
import { SECRET, jsonLogon, labRequirements, makeE2eLab, radclient, runAsync, sleep, startRadvd, until, type E2eLab } from './portal-lab.js';

const requirements = {
  ...labRequirements(),
  'openssl (apt-get install openssl)': haveCommand('openssl'),
  'rsyslogd (apt-get install rsyslog)': haveCommand('rsyslogd'),
  'radvd (apt-get install radvd)': haveCommand('radvd'),
};

const PASSWORDS = ['wonderland', 'not-her-password', 'builder'];
const USERS = [
  { name: 'alice', password: 'wonderland', reply: ['Session-Timeout = 3600'] },
  { name: 'bob', password: 'builder' },
];
const WAN_SOURCE = 9102;
const WAN_DELAYED = 9103;
const MAC0 = '02:77:00:00:00:10';

let e: E2eLab | undefined;
let syslog: Rsyslog | undefined;
let pidfile = '';

function lab(): E2eLab {
  assert.ok(e, 'lab not set up');
  return e;
}

before(async () => {
  if (Object.values(requirements).some((ok) => !ok)) return;
  syslog = await startRsyslog();
  e = await makeE2eLab({ clients: 1, users: USERS, tls: true, syslog: `unix://${syslog.unixPath}` });
  await serveIn(e.lab.wan, TCP_SOURCE_SERVER, [String(WAN_SOURCE)]);
  pidfile = join(e.dir, 'moat-portal.pid');
  // A symlink planted at the pid file's name must be replaced, not followed.
  writeFileSync(join(e.dir, 'victim'), 'untouched\n');
  symlinkSync(join(e.dir, 'victim'), pidfile);
  await e.startDaemon(['--pidfile', pidfile]);
});

after(async () => {
  await e?.destroy();
  await syslog?.stop();
});

/** GET an https URL from client 0, trusting only the lab's CA: {status, type, body} or {code}. */
const HTTPS_GET = `
import https from 'node:https';
import { readFileSync } from 'node:fs';
const [url, ca] = process.argv.slice(-2);
const req = https.get(url, { ca: readFileSync(ca), timeout: 5000 }, (res) => {
  let body = ''; res.on('data', (c) => (body += c));
  res.on('end', () => console.log(JSON.stringify({ status: res.statusCode, type: res.headers['content-type'], cache: res.headers['cache-control'], body })));
});
req.on('timeout', () => { req.destroy(); console.log(JSON.stringify({ code: 'TIMEOUT' })); });
req.on('error', (err) => console.log(JSON.stringify({ code: err.code })));
`;

interface Got {
  status?: number;
  type?: string;
  cache?: string;
  body?: string;
  code?: string;
}

function api(url: string): { got: Got; json: Record<string, unknown> } {
  const got: Got = nodeIn(lab().lab.clients[0] ?? '', HTTPS_GET, [url, lab().caFile ?? '']);
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(got.body ?? '') as Record<string, unknown>;
  } catch {
    // the assertions below say what came
  }
  return { got, json };
}

test('RFC 8908 API over HTTPS at the URL of DHCP option 114: captive before login, not after, with seconds remaining; other HTTPS is reset at once', async (t) => {
  if (!needs(t, requirements)) return;
  const { ip, lease } = await lab().dhcp(0);
  assert.match(ip, /^10\.77\.0\./);
  const url = /option captive-portal-url "([^"]+)";/.exec(lease)?.[1] ?? '';
  assert.equal(url, 'https://portal.lab:4990/api');

  // The client resolves portal.lab through the gateway's resolver and checks the certificate against the lab's CA.
  const before = api(url);
  assert.equal(before.got.status, 200, JSON.stringify(before.got));
  assert.equal(before.got.type, 'application/captive+json');
  assert.equal(before.got.cache, 'private');
  assert.equal(before.json.captive, true);
  assert.match(String(before.json['user-portal-url']), /^https:\/\/portal\.lab:4990\/login$/);

  // HTTPS anywhere else before login: a reset, not a timeout.
  const https: { ok: boolean; code?: string; ms: number } = nodeIn(lab().lab.clients[0] ?? '', TCP_CONNECT, [LAB.wanV4, '443', '3000']);
  assert.equal(https.ok, false);
  assert.equal(https.code, 'ECONNREFUSED', JSON.stringify(https));
  assert.ok(https.ms < 1000, `refused after ${String(https.ms)} ms`);

  const login = jsonLogon(lab(), 0, 'alice', 'wonderland');
  assert.equal(login.clientState, 1, JSON.stringify(login));
  const after = api(url);
  assert.equal(after.got.type, 'application/captive+json');
  assert.equal(after.json.captive, false, JSON.stringify(after.json));
  const left = Number(after.json['seconds-remaining']);
  assert.ok(left > 3500 && left <= 3600, `seconds-remaining ${String(after.json['seconds-remaining'])}`);
  assert.equal(lab().query('logout', MAC0).status, 0);
  assert.equal(api(url).json.captive, true);
});

/** A download that reports how it ended: half-open with a write at the end, so a reset shows as ECONNRESET (libuv reports a reset that comes with POLLHUP as an end of stream). */
const RESET_WATCH = `
import net from 'node:net';
const [host, port, limit] = process.argv.slice(-3);
let bytes = 0;
const s = net.connect({ host, port: Number(port), allowHalfOpen: true });
const done = (code) => { console.log(JSON.stringify({ bytes, code, at: Date.now() })); process.exit(0); };
s.on('data', (b) => { bytes += b.length; });
s.on('error', (err) => done(err.code));
s.on('end', () => { s.write('x'); setTimeout(() => done('end'), 500); });
setTimeout(() => done('limit'), Number(limit));
`;

test('Disconnect-Request: the running download on the client fails with ECONNRESET at once', async (t) => {
  if (!needs(t, requirements)) return;
  const login = jsonLogon(lab(), 0, 'bob', 'builder');
  assert.equal(login.clientState, 1);
  const id = login.session?.sessionId ?? '';
  const dl = lab().background(0, RESET_WATCH, [LAB.wanV4, String(WAN_SOURCE), '15000']);
  let out = '';
  dl.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  const ended = new Promise((resolve) => dl.once('exit', resolve));
  await sleep(1500);
  const cutAt = Date.now();
  const dis = radclient(lab(), 'disconnect', `Acct-Session-Id = "${id}"`);
  assert.match(dis.out, /Disconnect-ACK/, dis.out);
  await ended;
  const r = JSON.parse(out.trim()) as { bytes: number; code: string; at: number };
  assert.ok(r.bytes > 100_000, `the download ran: ${out}`);
  assert.equal(r.code, 'ECONNRESET', out);
  assert.ok(r.at - cutAt < 2000, `reset ${String(r.at - cutAt)} ms after the Disconnect-Request was sent`);
  t.diagnostic(`the client's download was reset ${String(r.at - cutAt)} ms after radclient sent the Disconnect-Request`);
});

test('Disconnect-Request during an idle connection (masqueraded): the far end\'s next segment resets the client, and the far end is reset too', async (t) => {
  if (!needs(t, requirements)) return;
  const source = await serveIn(lab().lab.wan, DELAYED_SOURCE, [String(WAN_DELAYED), '2500']);
  let serverSaid = '';
  source.stdout?.on('data', (b: Buffer) => (serverSaid += b.toString()));
  const login = jsonLogon(lab(), 0, 'bob', 'builder');
  assert.equal(login.clientState, 1);
  const watch = lab().background(0, IDLE_WATCH, [LAB.wanV4, String(WAN_DELAYED), '8000']);
  let out = '';
  watch.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  const ended = new Promise((resolve) => watch.once('exit', resolve));
  assert.ok(await until(() => out.includes('ready'), 3000), 'connected');
  const dis = radclient(lab(), 'disconnect', `Acct-Session-Id = "${login.session?.sessionId ?? ''}"`);
  assert.match(dis.out, /Disconnect-ACK/, dis.out);
  await ended;
  assert.deepEqual(JSON.parse(out.trim().split('\n').at(-1) ?? '{}'), { bytes: 0, code: 'ECONNRESET' }, out);
  assert.ok(await until(() => /"ended":"(ECONNRESET|EPIPE)"/.test(serverSaid), 3000), `the far end: ${serverSaid}`);
});

test('an IPv6 address the client starts using after login joins its session (same MAC), and leaves with it', async (t) => {
  if (!needs(t, requirements)) return;
  startRadvd(lab());
  const c0 = lab().lab.clients[0] ?? '';
  const slaac = (): string => /inet6 (fd00:77:\S+)\/64 scope global/.exec(lab().in(c0, ['ip', '-6', 'addr', 'show', 'dev', 'eth0']).stdout)?.[1] ?? '';
  assert.ok(await until(() => slaac() !== '', 15_000), 'no SLAAC address from radvd');
  const first = slaac();
  lab().in(c0, ['ping', '-6', '-c', '1', '-W', '1', LAB.gwV6]);
  assert.equal(jsonLogon(lab(), 0, 'alice', 'wonderland').clientState, 1);
  assert.match(lab().query('show', MAC0).stdout, new RegExp(`^ipv6=${first}$`, 'm'));

  // A second address, as a privacy address would appear; the gateway sees it when the client first talks from it.
  const second = 'fd00:77::7e57:1';
  lab().in(c0, ['ip', '-6', 'addr', 'add', `${second}/64`, 'dev', 'eth0', 'nodad']);
  const from = (src: string, limit = 1500): { ok: boolean; code?: string } => nodeIn(c0, TCP_FROM, [src, LAB.wanV6, String(WAN_SOURCE), String(limit)]);
  lab().in(c0, ['ping', '-6', '-c', '1', '-W', '1', '-I', second, LAB.gwV6]);
  assert.ok(await until(() => lab().query('show', MAC0).stdout.includes(second), 6000), `not added:\n${lab().query('show', MAC0).stdout}\n${lab().log().slice(-1500)}`);
  assert.match(lab().query('show', MAC0).stdout, new RegExp(`^ipv6=${first},${second}$`, 'm'));
  assert.ok(await until(() => from(second, 500).ok, 3000), 'the new address reaches the wan');
  assert.equal(from(first).ok, true);

  assert.equal(lab().query('logout', MAC0).status, 0);
  assert.deepEqual(from(second), { ok: false, code: 'ECONNREFUSED' });
  const table = lab().in(lab().lab.gw, ['nft', 'list', 'set', 'inet', 'moat_e2e', 'up6']).stdout;
  assert.doesNotMatch(table, /7e57/, table);
});

/** TCP connect from a given source address: {ok, code}. */
const TCP_FROM = `
import net from 'node:net';
const [src, host, port, limit] = process.argv.slice(-4);
const s = net.connect({ host, port: Number(port), localAddress: src });
const done = (r) => { console.log(JSON.stringify(r)); s.destroy(); process.exit(0); };
s.setTimeout(Number(limit), () => done({ ok: false, code: 'TIMEOUT' }));
s.on('connect', () => done({ ok: true }));
s.on('error', (err) => done({ ok: false, code: err.code }));
`;

test('syslog: the daemon logs to rsyslog, and no password or secret reaches a log line', async (t) => {
  if (!needs(t, requirements)) return;
  const s = syslog;
  assert.ok(s);
  // A rejected login and a CoA with a wrong secret, on top of the logins above.
  assert.equal(jsonLogon(lab(), 0, 'alice', 'not-her-password').clientState, 0);
  radclient(lab(), 'coa', 'Acct-Session-Id = "none"', 'a-wrong-secret-0451');
  // A reload with a file broken on the secret's own line: the error is logged, the line is not.
  const good = readFileSync(lab().configFile, 'utf8');
  writeFileSync(lab().configFile, good.replace(`secret: ${SECRET}`, `secret: "${SECRET}`));
  process.kill(lab().daemonPid ?? 0, 'SIGHUP');
  await s.waitFor(/reload failed/);
  writeFileSync(lab().configFile, good);
  await s.waitFor(/session started/);
  await s.waitFor(/session ended/);
  const lines = await s.lines();
  assert.ok(lines.some((l) => /^\d+\|moat-portal\|/.test(l)), lines.slice(0, 5).join('\n'));
  for (const l of lines) {
    for (const secret of [...PASSWORDS, SECRET, 'a-wrong-secret-0451']) assert.ok(!l.includes(secret), `a secret in syslog: ${l}`);
  }
  for (const secret of [...PASSWORDS, SECRET, 'a-wrong-secret-0451']) assert.ok(!lab().log().includes(secret), `a secret on stderr: ${secret}`);
});

test('dhcp.ipv6: dnsmasq announces the prefix and answers stateless DHCPv6 with RFC 8910 option 103 (the API URL) and the DNS server', async (t) => {
  if (!needs(t, requirements)) return;
  const reloads = (lab().log().match(/reloaded file=/g) ?? []).length;
  lab().writeConfig({ dhcp6: true });
  process.kill(lab().daemonPid ?? 0, 'SIGHUP');
  assert.ok(await until(() => (lab().log().match(/reloaded file=/g) ?? []).length > reloads, 5000), lab().log().slice(-1500));
  const conf = join(lab().dir, 'dhclient6.conf');
  writeFileSync(conf, 'option dhcp6.captive-portal code 103 = string;\nalso request dhcp6.captive-portal;\n');
  // With -S dhclient keeps no lease: what it got reaches its script as new_* variables, which this one writes down.
  const got = join(lab().dir, 'dhcp6.env');
  const script = join(lab().dir, 'dhclient6-script');
  writeFileSync(script, `#!/bin/sh\nenv | grep '^new_dhcp6_' >> ${got}\n`, { mode: 0o755 });
  const c0 = lab().lab.clients[0] ?? '';
  // -S: stateless, an Information-Request (RFC 8415 §18.2.6).
  const r = await runAsync(lab().lab.inNs(c0, ['dhclient', '-6', '-S', '-1', '-v', '-cf', conf, '-sf', script, '-lf', join(lab().dir, 'c0.leases6'), '-pf', join(lab().dir, 'c0.pid6'), 'eth0']), 40_000);
  assert.equal(r.status, 0, r.stderr);
  const env = readFileSync(got, 'utf8');
  assert.match(env, /^new_dhcp6_captive_portal=https:\/\/portal\.lab:4990\/api$/m, env);
  assert.match(env, /^new_dhcp6_name_servers=fd00:77::1$/m, env);

  // The router advertisements are dnsmasq's: with radvd (started above) gone, a client that asks gets a prefix again.
  const radvdPid = Number(readFileSync(join(lab().dir, 'radvd.pid'), 'utf8').trim());
  process.kill(radvdPid, 'SIGTERM');
  assert.ok(await until(() => !existsSync(`/proc/${String(radvdPid)}`), 5000), 'radvd stopped');
  lab().in(c0, ['ip', '-6', 'addr', 'flush', 'dev', 'eth0', 'scope', 'global']);
  lab().in(c0, ['ip', 'link', 'set', 'eth0', 'down']);
  lab().in(c0, ['ip', 'link', 'set', 'eth0', 'up']);
  const slaac = (): boolean => /inet6 fd00:77:\S+\/64 scope global/.test(lab().in(c0, ['ip', '-6', 'addr', 'show', 'dev', 'eth0']).stdout);
  assert.ok(await until(slaac, 15_000), `no SLAAC address from dnsmasq's router advertisements:\n${lab().in(c0, ['ip', '-6', 'addr']).stdout}`);
});

test('--pidfile holds the daemon pid while it runs (a planted symlink replaced, not followed) and is removed when it stops', async (t) => {
  if (!needs(t, requirements)) return;
  assert.equal(lstatSync(pidfile).isFile(), true);
  assert.equal(readFileSync(join(lab().dir, 'victim'), 'utf8'), 'untouched\n');
  assert.equal(readFileSync(pidfile, 'utf8'), `${String(lab().daemonPid)}\n`);
  await lab().stopDaemon();
  assert.equal(existsSync(pidfile), false);
});
