// A captive-portal lab in network namespaces, for the portal's system tests:
//
//   client[i] eth0 ──veth── cp<i> ┐
//                                 ├ gw: bridge lan0 10.77.0.1/24 fd00:77::1/64 ── wan0 198.51.100.1/24 fd00:99::1/64
//   client[j] eth0 ──veth── cp<j> ┘                                              ── veth ── wan: eth0 198.51.100.2/24 fd00:99::2/64
//
// The bridge ports are isolated (bridge(8) "isolated on"), as an access point
// isolates its stations, so clients meet only through the gateway. The wan
// namespace routes the client networks back through the gateway (no NAT), so
// its servers see the clients' own addresses. Namespace names carry the pid
// and a random part; destroy() removes everything the lab made.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

export function run(argv: readonly string[], timeoutMs = 20_000, input?: string): Run {
  const [cmd = 'false', ...args] = argv;
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, shell: false, input });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function mustRun(argv: readonly string[], timeoutMs = 20_000): Run {
  const r = run(argv, timeoutMs);
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${String(r.status)}): ${r.stderr.trim()}`);
  return r;
}

export const LAB = {
  lan: 'lan0',
  wanIf: 'wan0',
  gwV4: '10.77.0.1',
  prefixV4: 24,
  gwV6: 'fd00:77::1',
  gwWanV4: '198.51.100.1',
  wanV4: '198.51.100.2',
  gwWanV6: 'fd00:99::1',
  wanV6: 'fd00:99::2',
} as const;

export interface PortalLab {
  readonly gw: string;
  readonly wan: string;
  readonly clients: readonly string[];
  /** The MAC of client i's eth0. */
  mac(i: number): string;
  /** argv run inside a namespace. */
  inNs(ns: string, argv: readonly string[]): string[];
  /** Give client i a static IPv4 address (instead of DHCP) and the gateway as default route. */
  addressClient(i: number, ipv4: string): void;
  destroy(): void;
}

/** A unique prefix for this process's namespaces. */
export function labId(): string {
  return `mp${String(process.pid)}${randomBytes(2).toString('hex')}`;
}

export function makePortalLab(nClients: number): PortalLab {
  const id = labId();
  const gw = `${id}-gw`;
  const wan = `${id}-wan`;
  const clients = Array.from({ length: nClients }, (_, i) => `${id}-c${String(i)}`);
  const created: string[] = [];
  const inNs = (ns: string, argv: readonly string[]): string[] => ['ip', 'netns', 'exec', ns, ...argv];
  const mac = (i: number): string => `02:77:00:00:00:${(i + 16).toString(16).padStart(2, '0')}`;
  const destroy = (): void => {
    for (const ns of [...created].reverse()) run(['ip', 'netns', 'del', ns]);
  };
  try {
    for (const ns of [gw, wan, ...clients]) {
      mustRun(['ip', 'netns', 'add', ns]);
      created.push(ns);
      mustRun(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    }
    const g = (argv: string[]): void => void mustRun(['ip', '-n', gw, ...argv]);
    g(['link', 'add', LAB.lan, 'type', 'bridge']);
    g(['link', 'set', LAB.lan, 'address', '02:77:00:00:00:01']);
    g(['addr', 'add', `${LAB.gwV4}/${String(LAB.prefixV4)}`, 'dev', LAB.lan]);
    g(['addr', 'add', `${LAB.gwV6}/64`, 'dev', LAB.lan, 'nodad']);
    g(['link', 'set', LAB.lan, 'up']);
    mustRun(['ip', 'link', 'add', LAB.wanIf, 'netns', gw, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', wan]);
    g(['addr', 'add', `${LAB.gwWanV4}/24`, 'dev', LAB.wanIf]);
    g(['addr', 'add', `${LAB.gwWanV6}/64`, 'dev', LAB.wanIf, 'nodad']);
    g(['link', 'set', LAB.wanIf, 'up']);
    for (const k of ['net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']) mustRun(inNs(gw, ['sysctl', '-q', '-w', k]));
    const w = (argv: string[]): void => void mustRun(['ip', '-n', wan, ...argv]);
    w(['addr', 'add', `${LAB.wanV4}/24`, 'dev', 'eth0']);
    w(['addr', 'add', `${LAB.wanV6}/64`, 'dev', 'eth0', 'nodad']);
    w(['link', 'set', 'eth0', 'up']);
    w(['route', 'add', '10.77.0.0/24', 'via', LAB.gwWanV4]);
    w(['-6', 'route', 'add', 'fd00:77::/64', 'via', LAB.gwWanV6]);
    clients.forEach((c, i) => {
      const port = `cp${String(i)}`;
      mustRun(['ip', 'link', 'add', 'eth0', 'netns', c, 'address', mac(i), 'type', 'veth', 'peer', 'name', port, 'netns', gw]);
      g(['link', 'set', port, 'master', LAB.lan]);
      g(['link', 'set', port, 'up']);
      mustRun(inNs(gw, ['bridge', 'link', 'set', 'dev', port, 'isolated', 'on']));
      // No DAD wait for the tests' SLAAC addresses; RAs accepted.
      mustRun(inNs(c, ['sysctl', '-q', '-w', 'net.ipv6.conf.eth0.accept_dad=0']));
      mustRun(['ip', '-n', c, 'link', 'set', 'eth0', 'up']);
    });
  } catch (e) {
    destroy();
    throw e;
  }
  return {
    gw,
    wan,
    clients,
    mac,
    inNs,
    addressClient(i, ipv4) {
      const c = clients[i] ?? '';
      mustRun(['ip', '-n', c, 'addr', 'add', `${ipv4}/${String(LAB.prefixV4)}`, 'dev', 'eth0']);
      mustRun(['ip', '-n', c, 'route', 'replace', 'default', 'via', LAB.gwV4]);
    },
    destroy,
  };
}

// ---- small node programs run inside namespaces ------------------------------

/** Run a node program (ES module source) inside `ns`; its stdout is parsed as JSON of the shape the program prints. */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the shape its program prints
export function nodeIn<T>(ns: string, source: string, args: readonly string[] = [], timeoutMs = 30_000): T {
  const r = run(['ip', 'netns', 'exec', ns, process.execPath, '--input-type=module', '-e', source, '--', ...args], timeoutMs);
  if (r.status !== 0) throw new Error(`node in ${ns} failed (${String(r.status)}): ${r.stderr.trim()}`);
  return JSON.parse(r.stdout) as T;
}

/** Start a long-running node program inside `ns`; resolves when it prints its first line ("ready"). */
export function serveIn(ns: string, source: string, args: readonly string[] = []): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const c = spawn('ip', ['netns', 'exec', ns, process.execPath, '--input-type=module', '-e', source, '--', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    c.stderr.on('data', (b: Buffer) => (err += b.toString()));
    c.stdout.once('data', () => { resolve(c); });
    c.once('exit', (code) => { reject(new Error(`server in ${ns} exited ${String(code)}: ${err}`)); });
  });
}

export function stop(c: ChildProcess | undefined): Promise<void> {
  if (c?.exitCode !== null || c.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    c.once('exit', () => { resolve(); });
    c.kill('SIGKILL');
  });
}

/** TCP connect: {ok, code, ms}. code is the errno name on failure, 'TIMEOUT' after the limit. */
export const TCP_CONNECT = `
import net from 'node:net';
const [host, port, limit] = process.argv.slice(-3);
const t0 = Date.now();
const s = net.connect({ host, port: Number(port) });
const done = (r) => { console.log(JSON.stringify({ ...r, ms: Date.now() - t0 })); s.destroy(); process.exit(0); };
s.setTimeout(Number(limit), () => done({ ok: false, code: 'TIMEOUT' }));
s.on('connect', () => done({ ok: true }));
s.on('error', (e) => done({ ok: false, code: e.code }));
`;

/** UDP: send one datagram and wait for any reply: {ok}. */
export const UDP_PING = `
import dgram from 'node:dgram';
import net from 'node:net';
const [host, port, limit] = process.argv.slice(-3);
const s = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
const t = setTimeout(() => { console.log(JSON.stringify({ ok: false })); process.exit(0); }, Number(limit));
s.on('message', () => { clearTimeout(t); console.log(JSON.stringify({ ok: true })); process.exit(0); });
s.send(Buffer.from('ping'), Number(port), host);
`;

/** A UDP echo server on every address. */
export const UDP_ECHO_SERVER = `
import dgram from 'node:dgram';
const [port] = process.argv.slice(-1);
for (const type of ['udp4', 'udp6']) {
  const s = dgram.createSocket({ type, ipv6Only: type === 'udp6' });
  s.on('message', (m, r) => s.send(m, r.port, r.address));
  s.bind(Number(port));
}
setTimeout(() => console.log('ready'), 100);
`;

/** HTTP GET with a raw socket: {ok, status, body, code}. */
export const HTTP_GET = `
import net from 'node:net';
const [host, port, limit] = process.argv.slice(-3);
const s = net.connect({ host, port: Number(port) });
let buf = '';
const done = (r) => { console.log(JSON.stringify(r)); s.destroy(); process.exit(0); };
s.setTimeout(Number(limit), () => done({ ok: false, code: 'TIMEOUT' }));
s.on('connect', () => s.write('GET /probe HTTP/1.1\\r\\nHost: ' + host + '\\r\\nConnection: close\\r\\n\\r\\n'));
s.on('data', (b) => { buf += b.toString(); });
s.on('end', () => { const status = Number(buf.split(' ')[1]); done({ ok: true, status, body: buf.split('\\r\\n\\r\\n').slice(1).join('') }); });
s.on('error', (e) => done({ ok: false, code: e.code }));
`;

/** An HTTP server answering every request with a body naming itself and the peer. */
export const HTTP_SERVER = `
import http from 'node:http';
const [port, name] = process.argv.slice(-2);
const srv = http.createServer((req, res) => { res.end(name + ' ' + req.socket.remoteAddress); });
srv.listen(Number(port), '::', () => console.log('ready'));
`;

/**
 * A TCP server that sends bytes as fast as the peer takes them (download
 * source) and reports, on its stdout after the first line, how each connection ended.
 */
export const TCP_SOURCE_SERVER = `
import net from 'node:net';
const [port] = process.argv.slice(-1);
const chunk = Buffer.alloc(16384, 120);
const srv = net.createServer((s) => {
  let sent = 0;
  const pump = () => { while (s.write(chunk)) { sent += chunk.length; if (s.destroyed) return; } sent += chunk.length; };
  s.on('drain', pump);
  s.on('error', (e) => { console.log(JSON.stringify({ ended: e.code, sent })); });
  s.on('close', () => console.log(JSON.stringify({ closed: true, sent })));
  pump();
});
srv.listen(Number(port), '::', () => console.log('ready'));
`;

/** A TCP sink: reads and counts; writes the count as a line when the peer ends. */
export const TCP_SINK_SERVER = `
import net from 'node:net';
const [port] = process.argv.slice(-1);
const srv = net.createServer((s) => {
  let n = 0;
  s.on('data', (b) => { n += b.length; });
  s.on('end', () => { s.end(String(n) + '\\n'); });
  s.on('error', () => {});
});
srv.listen(Number(port), '::', () => console.log('ready'));
`;

/**
 * Download from a source server for `seconds`: {ok, bytes, ms, steadyBytes,
 * steadyMs}. The steady part starts 1.5 s after the first byte, past a
 * policer's initial bucket.
 */
export const TCP_DOWNLOAD = `
import net from 'node:net';
const [host, port, seconds] = process.argv.slice(-3);
let bytes = 0, first = 0, mark = 0, markBytes = 0;
const s = net.connect({ host, port: Number(port) });
const done = (r) => {
  const now = Date.now();
  console.log(JSON.stringify({ ...r, bytes, ms: now - first, steadyBytes: mark ? bytes - markBytes : 0, steadyMs: mark ? now - mark : 0 }));
  s.destroy(); process.exit(0);
};
s.on('data', (b) => {
  const now = Date.now();
  if (first === 0) first = now;
  if (mark === 0 && now - first >= 1500) { mark = now; markBytes = bytes; }
  bytes += b.length;
});
s.on('error', (e) => done({ ok: false, code: e.code }));
setTimeout(() => done({ ok: true }), Number(seconds) * 1000);
`;

/** Upload `bytes` to a sink and read its count: {ok, sent, counted, ms}. */
export const TCP_UPLOAD = `
import net from 'node:net';
const [host, port, bytes, limit] = process.argv.slice(-4);
const t0 = Date.now();
const s = net.connect({ host, port: Number(port) });
let reply = '';
const done = (r) => { console.log(JSON.stringify({ ...r, ms: Date.now() - t0 })); s.destroy(); process.exit(0); };
s.setTimeout(Number(limit), () => done({ ok: false, code: 'TIMEOUT' }));
s.on('connect', () => { s.end(Buffer.alloc(Number(bytes), 97)); });
s.on('data', (b) => { reply += b.toString(); });
s.on('end', () => done({ ok: true, sent: Number(bytes), counted: Number(reply.trim()) }));
s.on('error', (e) => done({ ok: false, code: e.code }));
`;

/** DNS query through node's resolver to one server: {ok, answers, code}. */
export const DNS_QUERY = `
import { Resolver } from 'node:dns/promises';
const [server, name, type] = process.argv.slice(-3);
const r = new Resolver({ timeout: 1500, tries: 1 });
r.setServers([server]);
try {
  const answers = await r.resolve(name, type);
  console.log(JSON.stringify({ ok: true, answers }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, code: e.code }));
}
`;

/** A TCP server that waits, then sends; it reports how each connection ended. */
export const DELAYED_SOURCE = `
import net from 'node:net';
const [port, delay] = process.argv.slice(-2);
const chunk = Buffer.alloc(16384, 120);
const srv = net.createServer((s) => {
  s.on('error', (e) => console.log(JSON.stringify({ ended: e.code })));
  setTimeout(() => { const pump = () => { while (!s.destroyed && s.write(chunk)); }; s.on('drain', pump); pump(); }, Number(delay));
});
srv.listen(Number(port), '::', () => console.log('ready'));
`;

/** Connect, print 'ready', then only read: {bytes, code} when the connection ends (half-open, and a write at the end: libuv reports a reset that comes with POLLHUP as an end of stream, and the write then fails with ECONNRESET). */
export const IDLE_WATCH = `
import net from 'node:net';
const [host, port, limit] = process.argv.slice(-3);
let bytes = 0;
const s = net.connect({ host, port: Number(port), allowHalfOpen: true });
const done = (code) => { console.log(JSON.stringify({ bytes, code })); process.exit(0); };
s.on('connect', () => console.log('ready'));
s.on('data', (b) => { bytes += b.length; });
s.on('error', (e) => done(e.code));
s.on('end', () => { s.write('x'); setTimeout(() => done('end'), 500); });
setTimeout(() => done('limit'), Number(limit));
`;
