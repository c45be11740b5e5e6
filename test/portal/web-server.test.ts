import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test, type TestContext } from 'node:test';
import { Logger } from '../../src/core/index.js';
import { Gateway } from '../../src/portal/gateway.js';
import { PortalMetrics } from '../../src/portal/metrics.js';
import { parsePortalConfig } from '../../src/portal/portal-config.js';
import type { AuthRequest, AuthResult, ClientKey } from '../../src/portal/ports.js';
import { SessionStore } from '../../src/portal/session-store.js';
import { chapResponse, pageChallenge, verifyUrl } from '../../src/portal/uam.js';
import { PortalWeb } from '../../src/portal/web-server.js';
import { haveCommand, needs } from '../helpers/system.js';
import { MemoryFirewall, RecordingRadius } from './memory-peers.js';

const alice: ClientKey = { ifname: 'veth0', mac: '02:00:00:00:00:01', ipv4: '127.0.0.1' };

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(port: number, path: string, o: { host?: string; method?: string; form?: Record<string, string>; tls?: boolean } = {}): Promise<Reply> {
  const body = o.form === undefined ? undefined : new URLSearchParams(o.form).toString();
  return new Promise((resolve, reject) => {
    const req = (o.tls === true ? httpsRequest : httpRequest)(
      {
        host: '127.0.0.1',
        port,
        path,
        method: o.method ?? (body === undefined ? 'GET' : 'POST'),
        headers: { Host: o.host ?? '10.1.0.1', ...(body === undefined ? {} : { 'Content-Type': 'application/x-www-form-urlencoded' }) },
        rejectUnauthorized: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function start(t: TestContext, extra: string, answer: (r: AuthRequest) => AuthResult, tls?: { cert: string; key: string }) {
  const dir = mkdtempSync(join(tmpdir(), 'moat-portal-web-'));
  const tlsConf = tls === undefined ? '' : `  cert: ${tls.cert}\n  key: ${tls.key}\n`;
  const settings = parsePortalConfig(
    `nas-id: gw1\ninterface: veth0\naddress: 10.1.0.1/24\nradius:\n  servers: [{ host: 10.9.0.2, secret: testing123456 }]\n  method: chap\nweb:\n  hostname: portal.test\n  login-rate: 3\n${tlsConf}${extra}session:\n  state-dir: ${dir}\n`,
    'portal.yaml',
  );
  const fw = new MemoryFirewall();
  const radius = new RecordingRadius(answer);
  const log = new PassThrough();
  const lines: string[] = [];
  log.on('data', (c: Buffer) => lines.push(c.toString()));
  const logger = new Logger({ appName: 'moat-portal', stderr: log, level: 'debug' });
  const metrics = new PortalMetrics();
  const gateway = new Gateway({ radius, firewall: fw, store: new SessionStore(dir), logger, metrics, defaults: { sessionTimeout: 3600, idleTimeout: 0, interimInterval: 600 }, calledStationId: 'gw1' });
  const web = new PortalWeb({
    settings,
    gateway,
    lookup: { lookup: (ip: string) => Promise.resolve(ip === '127.0.0.1' || ip === '::ffff:127.0.0.1' ? alice : undefined) },
    logger,
    metrics,
    ports: { http: 0, https: 0 },
    bindHost: '127.0.0.1',
  });
  const bound = await web.listen();
  t.after(async () => {
    await web.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const port = (label: string) => Number(bound.find((b) => b.startsWith(`${label}:`))?.split(':')[1]);
  return { web, fw, radius, lines, port: port('http'), httpsPort: port('https'), settings };
}

/** The RADIUS side: CHAP or PAP with password "right". */
function checkPassword(r: AuthRequest): AuthResult {
  const c = r.credentials;
  const ok = c.kind === 'pap' ? c.password === 'right' : c.kind === 'chap' && chapResponse(c.chapId, 'right', c.challenge).equals(c.response);
  return ok ? { accepted: true, policy: {} } : { accepted: false, policy: {}, replyMessage: 'Wrong password' };
}

test('foreign Host: redirect to the signed login URL with the UAM parameters', async (t) => {
  const p = await start(t, '', checkPassword);
  const r = await call(p.port, '/some/page?x=1', { host: 'example.com' });
  assert.equal(r.status, 302);
  const loc = String(r.headers.location);
  const u = new URL(loc);
  assert.equal(`${u.origin}${u.pathname}`, 'http://portal.test:3990/login');
  for (const k of ['res', 'uamip', 'uamport', 'challenge', 'called', 'mac', 'ip', 'nasid', 'sessionid', 'userurl', 'exp', 'md']) assert.ok(u.searchParams.has(k), k);
  assert.equal(u.searchParams.get('res'), 'notyet');
  assert.equal(u.searchParams.get('mac'), '02-00-00-00-00-01');
  assert.equal(u.searchParams.get('userurl'), 'http://example.com/some/page?x=1');
  assert.match(u.searchParams.get('challenge') ?? '', /^[0-9a-f]{32}$/);
  // The login page accepts the userurl only with a valid signature.
  const page = await call(p.port, `${u.pathname}${u.search}`, { host: 'portal.test' });
  assert.equal(page.status, 200);
  assert.match(page.body, /name="userurl" value="http:\/\/example\.com\/some\/page\?x=1"/);
  const tampered = `${u.pathname}${u.search}`.replace('example.com', 'evil.example');
  const page2 = await call(p.port, tampered, { host: 'portal.test' });
  assert.match(page2.body, /name="userurl" value=""/);
});

test('md5 mode: CoovaChilli form MD5(url || secret), upper-case hex', async (t) => {
  const p = await start(t, '  uam-secret: uamsecret123\n  md: md5\n', checkPassword);
  const r = await call(p.port, '/', { host: 'neverssl.com' });
  const loc = String(r.headers.location);
  assert.match(loc, /&md=[0-9A-F]{32}$/);
  assert.doesNotMatch(loc, /[?&]exp=/);
  assert.ok(verifyUrl(loc, { mode: 'md5', secret: Buffer.from('uamsecret123'), lifetimeSeconds: 0 }));
  assert.ok(!verifyUrl(loc.replace('neverssl', 'xeverssl'), { mode: 'md5', secret: Buffer.from('uamsecret123'), lifetimeSeconds: 0 }));
});

test('built-in page: a wrong password shows the reject, the right one lands on userurl', async (t) => {
  const p = await start(t, '', checkPassword);
  const bad = await call(p.port, '/login', { host: 'portal.test', form: { username: 'alice', password: 'wrong', userurl: 'http://example.com/a' } });
  assert.equal(bad.status, 401);
  assert.match(bad.body, /Wrong password/);
  assert.equal(p.fw.clients.size, 0);
  const good = await call(p.port, '/login', { host: '10.1.0.1', form: { username: 'alice', password: 'right', userurl: 'http://example.com/a' } });
  assert.equal(good.status, 302);
  assert.equal(good.headers.location, 'http://example.com/a');
  assert.ok(p.fw.clients.has(alice.mac));
  assert.equal(p.radius.auth.at(-1)?.credentials.kind, 'chap');
  const status = await call(p.port, '/status', { host: 'portal.test' });
  assert.match(status.body, /You are online as <b>alice<\/b>/);
  // No password ever reaches the log.
  const log = p.lines.join('');
  assert.match(log, /session started/);
  assert.doesNotMatch(log, /right|wrong|testing123456/);
  const out = await call(p.port, '/logout', { host: 'portal.test', form: {} });
  assert.equal(out.status, 200);
  assert.equal(p.fw.clients.size, 0);
});

test('CoovaChilli /logon with a CHAP response and with the XORed PAP password', async (t) => {
  const p = await start(t, '  uam-secret: uamsecret123\n  login-url: https://login.example/hotspotlogin\n', checkPassword);
  const first = new URL(String((await call(p.port, '/', { host: 'example.org' })).headers.location));
  assert.equal(first.origin, 'https://login.example');
  const challenge = Buffer.from(first.searchParams.get('challenge') ?? '', 'hex');
  const pageChal = pageChallenge(challenge, Buffer.from('uamsecret123'));
  const response = chapResponse(0, 'right', pageChal).toString('hex');
  const r = await call(p.port, `/logon?username=alice&response=${response}&userurl=${encodeURIComponent('http://example.org/')}`, { host: '10.1.0.1' });
  const back = new URL(String(r.headers.location));
  assert.equal(back.searchParams.get('res'), 'success');
  assert.equal(back.searchParams.get('userurl'), 'http://example.org/');
  assert.ok(p.fw.clients.has(alice.mac));
  await call(p.port, '/logoff', { host: '10.1.0.1' });
  assert.equal(p.fw.clients.size, 0);
  // PAP: hex(password XOR MD5(challenge || uamsecret)), as hotspotlogin.cgi sends it.
  const again = new URL(String((await call(p.port, '/', { host: 'example.org' })).headers.location));
  const chal2 = pageChallenge(Buffer.from(again.searchParams.get('challenge') ?? '', 'hex'), Buffer.from('uamsecret123'));
  const pw = Buffer.alloc(16);
  Buffer.from('right').copy(pw);
  for (let i = 0; i < 16; i++) pw[i] = (pw[i] ?? 0) ^ (chal2[i] ?? 0);
  const r2 = await call(p.port, `/logon?username=alice&password=${pw.toString('hex')}`, { host: '10.1.0.1' });
  assert.equal(new URL(String(r2.headers.location)).searchParams.get('res'), 'success');
  assert.equal(p.radius.auth.at(-1)?.credentials.kind, 'pap');
});

test('JSON interface with JSONP callback; bad callback names refused', async (t) => {
  const p = await start(t, '', checkPassword);
  const s0 = await call(p.port, '/json/status?callback=chilliJSON.reply', { host: '10.1.0.1' });
  assert.equal(s0.headers['content-type'], 'application/javascript');
  const m = /^chilliJSON\.reply\((.*)\)\n$/s.exec(s0.body);
  assert.ok(m);
  const st = JSON.parse(m[1] ?? '') as { clientState: number; challenge: string };
  assert.equal(st.clientState, 0);
  const logon = JSON.parse((await call(p.port, '/json/logon?username=alice&password=right', { host: '10.1.0.1' })).body) as { clientState: number; session: { userName: string } };
  assert.equal(logon.clientState, 1);
  assert.equal(logon.session.userName, 'alice');
  const off = JSON.parse((await call(p.port, '/json/logoff', { host: '10.1.0.1' })).body) as { clientState: number };
  assert.equal(off.clientState, 0);
  assert.equal((await call(p.port, '/json/status?callback=alert(1)//', { host: '10.1.0.1' })).status, 400);
});

test('CONNECT is refused, login attempts are rate-limited per MAC', async (t) => {
  const p = await start(t, '', checkPassword);
  const answer = await new Promise<string>((resolve, reject) => {
    const sock = connect(p.port, '127.0.0.1', () => sock.write('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'));
    let data = '';
    sock.on('data', (c: Buffer) => (data += c.toString()));
    sock.on('end', () => {
      resolve(data);
    });
    sock.on('error', reject);
  });
  assert.match(answer, /^HTTP\/1\.1 405 /);
  const codes: number[] = [];
  for (let i = 0; i < 5; i++) codes.push((await call(p.port, '/login', { host: '10.1.0.1', form: { username: 'alice', password: 'wrong' } })).status);
  assert.deepEqual(codes, [401, 401, 401, 429, 429]);
  assert.equal(p.radius.auth.length, 3);
});

test('RFC 8908 API over HTTPS: application/captive+json, captive then not', async (t) => {
  if (!needs(t, { openssl: haveCommand('openssl') })) return;
  const dir = mkdtempSync(join(tmpdir(), 'moat-portal-tls-'));
  t.after(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=portal.test', '-addext', 'subjectAltName=DNS:portal.test', '-keyout', key, '-out', cert], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const p = await start(t, '', checkPassword, { cert, key });
  const a = await call(p.httpsPort, '/api', { host: 'portal.test', tls: true });
  assert.equal(a.status, 200);
  assert.equal(a.headers['content-type'], 'application/captive+json');
  assert.deepEqual(JSON.parse(a.body), { captive: true, 'user-portal-url': 'https://portal.test:4990/login' });
  await call(p.httpsPort, '/login', { host: 'portal.test', tls: true, form: { username: 'alice', password: 'right' } });
  const b = JSON.parse((await call(p.httpsPort, '/api', { host: 'portal.test', tls: true })).body) as Record<string, unknown>;
  assert.equal(b.captive, false);
  assert.ok(typeof b['seconds-remaining'] === 'number' && b['seconds-remaining'] > 3590);
  assert.equal((await call(p.httpsPort, '/api', { host: 'example.com', tls: true })).status, 421);
});
