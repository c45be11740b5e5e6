// The end-to-end lab of issue 13's acceptance: client namespaces, a gateway
// namespace running `moat portal run` (with its dnsmasq and nft table), and a
// wan namespace with Debian's freeradius and HTTP/TCP servers. Everything is
// made per test file with unique names and removed afterwards.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeradiusRequirements, startFreeradius, type Freeradius, type FreeradiusOptions, type FreeradiusUser } from '../../helpers/freeradius.js';
import { LAB, makePortalLab, mustRun, nodeIn, run, serveIn, stop, type PortalLab, type Run } from '../../helpers/portal-netns.js';
import { haveCommand, haveNetns, repoRoot } from '../../helpers/system.js';

export const SECRET = 'testing123456';

/** What every lab needs (for needs()): freeradius, namespaces, nft, dnsmasq, a DHCP client, conntrack. */
export function labRequirements(): Record<string, boolean> {
  return {
    ...freeradiusRequirements(),
    'network namespaces (root, iproute2)': haveNetns(),
    'nft (apt-get install nftables)': haveCommand('nft'),
    'dnsmasq (apt-get install dnsmasq)': haveCommand('dnsmasq'),
    'dhclient (apt-get install isc-dhcp-client)': haveCommand('dhclient'),
    'conntrack (apt-get install conntrack)': haveCommand('conntrack'),
  };
}
const MOAT = join(repoRoot, 'dist', 'bin', 'moat.js');
const DRIVER = join(repoRoot, 'dist', 'test', 'portal', 'e2e', 'browser-driver.js');

/** A wan web server: `/bytes/N` sends N bytes, anything else names the path. */
const WAN_HTTP = `
import http from 'node:http';
const chunk = Buffer.alloc(65536, 120);
const srv = http.createServer((req, res) => {
  const m = /^\\/bytes\\/(\\d+)$/.exec(req.url);
  if (m === null) { res.end('wan page ' + req.url + '\\n'); return; }
  let left = Number(m[1]);
  res.writeHead(200, { 'content-length': left });
  const pump = () => { while (left > 0) { const n = Math.min(left, chunk.length); left -= n; if (!res.write(chunk.subarray(0, n))) { res.once('drain', pump); return; } } res.end(); };
  pump();
});
srv.listen(80, '::', () => console.log('ready'));
`;

/** Start a download in the background; the child prints one JSON line when it ends. */
export const SLOW_DOWNLOAD = `
import http from 'node:http';
const [url, limit] = process.argv.slice(-2);
let bytes = 0;
const t0 = Date.now();
const done = (r) => { console.log(JSON.stringify({ ...r, bytes, ms: Date.now() - t0 })); process.exit(0); };
const req = http.get(url, (res) => { res.on('data', (b) => { bytes += b.length; }); res.on('end', () => done({ ok: true, status: res.statusCode })); res.on('error', (e) => done({ ok: false, code: e.code })); });
req.on('error', (e) => done({ ok: false, code: e.code }));
req.setTimeout(Number(limit), () => { req.destroy(); done({ ok: false, code: 'TIMEOUT' }); });
`;

/** Download from a TCP source, printing the bytes so far every 250 ms as `{t, bytes}` lines. */
export const DOWNLOAD_PROGRESS = `
import net from 'node:net';
const [host, port, seconds] = process.argv.slice(-3);
let bytes = 0;
const t0 = Date.now();
const s = net.connect({ host, port: Number(port) });
s.on('data', (b) => { bytes += b.length; });
s.on('error', (e) => { console.log(JSON.stringify({ t: Date.now() - t0, bytes, code: e.code })); });
setInterval(() => console.log(JSON.stringify({ t: Date.now() - t0, bytes })), 250);
setTimeout(() => { s.destroy(); process.exit(0); }, Number(seconds) * 1000);
`;

/** Follow a DOWNLOAD_PROGRESS child: the last byte count it reported. */
export function progress(c: ChildProcess): () => number {
  let last = 0;
  let buf = '';
  c.stdout?.on('data', (b: Buffer) => {
    buf += b.toString();
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const l of lines) {
      try {
        last = (JSON.parse(l) as { bytes: number }).bytes;
      } catch {
        // not ours
      }
    }
  });
  return () => last;
}

/** A second gateway's link into the first lab's wan namespace (acceptance 8). */
export const SECOND = { gwV4: '198.51.101.1', wanV4: '198.51.101.2', wanIf: 'wan1' } as const;

export interface LabOptions {
  clients: number;
  /** NAS-Identifier (default e2e-gw-1). */
  nasId?: string;
  /** Use this lab's freeradius: the new gateway gets a link into its wan namespace. */
  shareRadiusOf?: E2eLab;
  users: FreeradiusUser[];
  /** Extra portal.yaml text (top-level sections other than the ones written here). */
  extra?: string;
  session?: string;
  /** A throwaway CA and a certificate for the portal's name (openssl), so the HTTPS server runs. */
  tls?: boolean;
  /** log.syslog of portal.yaml (unix:///path reaches across namespaces). */
  syslog?: string;
}

export interface E2eLab {
  readonly lab: PortalLab;
  readonly radius: Freeradius;
  readonly dir: string;
  readonly configFile: string;
  /** The CA that signed the portal's certificate (with `tls`). */
  readonly caFile: string | undefined;
  /** The daemon's stderr so far. */
  log(): string;
  startDaemon(extraArgs?: readonly string[]): Promise<void>;
  /** SIGKILL: no cleanup at all, as after a crash. */
  killDaemon(): Promise<void>;
  stopDaemon(): Promise<void>;
  readonly daemonPid: number | undefined;
  /** `dhcp6`: dnsmasq also sends router advertisements and answers stateless DHCPv6 (dhcp.ipv6). */
  writeConfig(o: { method?: 'pap' | 'chap'; extra?: string; dhcp6?: boolean }): void;
  query(...args: string[]): Run;
  /** dhclient in client i: its address and the lease file's text. */
  dhcp(i: number): Promise<{ ip: string; lease: string }>;
  browser(i: number, spec: { url: string; user?: string; password?: string }): Promise<Record<string, unknown>>;
  /** A program in a namespace, in the background, stopped with the lab. */
  spawnIn(ns: string, argv: string[]): ChildProcess;
  /** A node program in a client namespace, in the background. */
  background(i: number, source: string, args: string[]): ChildProcess;
  in(ns: string, argv: string[], timeoutMs?: number): Run;
  destroy(): Promise<void>;
}

export async function makeE2eLab(o: LabOptions): Promise<E2eLab> {
  const dir = mkdtempSync(join(tmpdir(), `moat-portal-e2e-${String(process.pid)}-`));
  let tls: { ca: string; cert: string; key: string } | undefined;
  try {
    tls = o.tls === true ? makeCertificate(dir, 'portal.lab', LAB.gwV4) : undefined;
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const lab = makePortalLab(o.clients);
  const children: ChildProcess[] = [];
  let radius: Freeradius | undefined;
  let daemon: ChildProcess | undefined;
  let log = '';
  const configFile = join(dir, 'portal.yaml');
  // login-rate: the lab's client 0 logs in some 25 times within a minute or
  // two across the tests, so the per-MAC limit (tested on its own in
  // test/portal/web-server.test.ts) is set out of the way here.
  const writeConfig = (c: { method?: 'pap' | 'chap'; extra?: string; dhcp6?: boolean }): void => {
    writeFileSync(
      configFile,
      `nas-id: ${o.nasId ?? 'e2e-gw-1'}
interface: ${LAB.lan}
address: ${LAB.gwV4}/${String(LAB.prefixV4)}
address6: ${LAB.gwV6}/64
wan: ${LAB.wanIf}
dhcp:
  range: [10.77.0.50, 10.77.0.99]
  lease-time: 600
${c.dhcp6 === true ? '  ipv6: true\n' : ''}dns:
  upstream: [${LAB.wanV4}]
radius:
  servers:
    - host: ${LAB.wanV4}
      secret: ${SECRET}
  timeout: 2
  retries: 1
  method: ${c.method ?? 'chap'}
  coa:
    clients:
      - address: ${o.shareRadiusOf === undefined ? LAB.wanV4 : SECOND.wanV4}
        secret: ${SECRET}
web:
  hostname: portal.lab
  login-rate: 1000
${tls === undefined ? '' : `  cert: ${tls.cert}\n  key: ${tls.key}\n`}session:
  state-dir: ${join(dir, 'state')}
  check-interval: 1
${o.session ?? ''}firewall:
  table: moat_e2e
query:
  socket: ${join(dir, 'query.sock')}
metrics: 127.0.0.1:9120
${o.syslog === undefined ? '' : `log:\n  syslog: ${o.syslog}\n`}${c.extra ?? o.extra ?? ''}`,
    );
  };
  const destroy = async (): Promise<void> => {
    if (daemon !== undefined) await stop(daemon);
    for (const c of children) await stop(c);
    if (o.shareRadiusOf === undefined) await radius?.stop();
    // Whatever still runs in our namespaces was started by this lab (dhclient, dnsmasq).
    for (const ns of [lab.gw, lab.wan, ...lab.clients]) {
      for (const pid of run(['ip', 'netns', 'pids', ns]).stdout.split('\n').filter((p) => /^\d+$/.test(p))) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // gone
        }
      }
      rmSync(`/etc/netns/${ns}`, { recursive: true, force: true });
    }
    lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const opts: FreeradiusOptions = {
      secret: SECRET,
      users: o.users,
      netns: lab.wan,
      listenAddress: LAB.wanV4,
      clients: [
        { address: LAB.gwWanV4, secret: SECRET },
        { address: SECOND.gwV4, secret: SECRET },
      ],
    };
    const other = o.shareRadiusOf;
    if (other === undefined) radius = await startFreeradius(opts);
    else {
      // gw ── wan1 ══ eth1 ── the first lab's wan; RADIUS and CoA cross it.
      radius = other.radius;
      const w = other.lab.wan;
      mustRun(['ip', 'link', 'add', SECOND.wanIf, 'netns', lab.gw, 'type', 'veth', 'peer', 'name', 'eth1', 'netns', w]);
      mustRun(['ip', '-n', lab.gw, 'addr', 'add', `${SECOND.gwV4}/24`, 'dev', SECOND.wanIf]);
      mustRun(['ip', '-n', lab.gw, 'link', 'set', SECOND.wanIf, 'up']);
      mustRun(['ip', '-n', lab.gw, 'route', 'add', `${LAB.wanV4}/32`, 'via', SECOND.wanV4]);
      mustRun(['ip', '-n', w, 'addr', 'add', `${SECOND.wanV4}/24`, 'dev', 'eth1']);
      mustRun(['ip', '-n', w, 'link', 'set', 'eth1', 'up']);
    }
    children.push(await serveIn(lab.wan, WAN_HTTP));
    writeConfig({});
    for (const ns of lab.clients) {
      // `ip netns exec` mounts this over /etc/resolv.conf, so dhclient-script never touches the host's.
      mkdirSync(`/etc/netns/${ns}`, { recursive: true });
      writeFileSync(`/etc/netns/${ns}/resolv.conf`, `nameserver ${LAB.gwV4}\n`);
    }
  } catch (e) {
    await destroy();
    throw e;
  }
  const r = radius;
  const self: E2eLab = {
    lab,
    radius: r,
    dir,
    configFile,
    caFile: tls?.ca,
    log: () => log,
    get daemonPid() {
      return daemon?.pid;
    },
    writeConfig,
    async startDaemon(extraArgs = []) {
      const child = spawn('ip', ['netns', 'exec', lab.gw, process.execPath, MOAT, 'portal', 'run', '-f', configFile, ...extraArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
      daemon = child;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new Error(`moat portal did not start:\n${log}`));
        }, 20_000);
        child.stderr.on('data', (b: Buffer) => {
          log += b.toString();
          if (log.slice(-4000).includes('moat-portal: started ')) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`moat portal exited ${String(code)}:\n${log}`));
        });
      });
      child.removeAllListeners('exit');
    },
    async killDaemon() {
      await stop(daemon);
      daemon = undefined;
    },
    async stopDaemon() {
      const d = daemon;
      if (d?.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        d.once('exit', () => {
          resolve();
        });
        // ip netns exec execs the command: the child is node itself.
        d.kill('SIGTERM');
      });
      daemon = undefined;
    },
    query: (...args) => run(lab.inNs(lab.gw, [process.execPath, MOAT, 'portal', 'query', '-S', join(dir, 'query.sock'), ...args])),
    async dhcp(i) {
      const ns = lab.clients[i] ?? '';
      const conf = join(dir, 'dhclient.conf');
      writeFileSync(conf, 'option captive-portal-url code 114 = text;\nrequest subnet-mask, broadcast-address, routers, domain-name-servers, captive-portal-url;\n');
      const leaseFile = join(dir, `c${String(i)}.leases`);
      const r = await runAsync(lab.inNs(ns, ['dhclient', '-1', '-cf', conf, '-lf', leaseFile, '-pf', join(dir, `c${String(i)}.pid`), 'eth0']), 40_000);
      if (r.status !== 0) throw new Error(`dhclient failed: ${r.stderr}`);
      const lease = readFileSync(leaseFile, 'utf8');
      const ip = /fixed-address (\S+);/.exec(lease)?.[1] ?? '';
      return { ip, lease };
    },
    async browser(i, spec) {
      const res = await runAsync(lab.inNs(lab.clients[i] ?? '', [process.execPath, DRIVER, JSON.stringify(spec)]), 60_000);
      if (res.status !== 0) throw new Error(`browser driver failed: ${res.stderr}`);
      return JSON.parse(res.stdout) as Record<string, unknown>;
    },
    spawnIn(ns, argv) {
      const c = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(c);
      return c;
    },
    background(i, source, args) {
      const c = spawn('ip', ['netns', 'exec', lab.clients[i] ?? '', process.execPath, '--input-type=module', '-e', source, '--', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(c);
      return c;
    },
    in: (ns, argv, timeoutMs) => run(lab.inNs(ns, argv), timeoutMs),
    destroy,
  };
  return self;
}

/** Log client i in through the JSON interface (as an external page's script would). */
export function jsonLogon(e: E2eLab, i: number, user: string, password: string): { clientState: number; session?: { sessionId: string }; message?: string } {
  const src = `
import http from 'node:http';
const [u, p] = process.argv.slice(-2);
http.get({ host: '${LAB.gwV4}', port: 3990, path: '/json/logon?username=' + encodeURIComponent(u) + '&password=' + encodeURIComponent(p) }, (res) => {
  let b = ''; res.on('data', (c) => (b += c)); res.on('end', () => { console.log(b.trim()); });
});`;
  return nodeIn(e.lab.clients[i] ?? '', src, [user, password]);
}

/** radvd(8) on the gateway's client side, announcing fd00:77::/64 for SLAAC every few seconds. */
export function startRadvd(e: E2eLab): void {
  const conf = join(e.dir, 'radvd.conf');
  writeFileSync(conf, `interface ${LAB.lan} {\n  AdvSendAdvert on;\n  MinRtrAdvInterval 3;\n  MaxRtrAdvInterval 4;\n  prefix fd00:77::/64 {\n    AdvOnLink on;\n    AdvAutonomous on;\n  };\n};\n`);
  e.spawnIn(e.lab.gw, ['radvd', '-n', '-C', conf, '-p', join(e.dir, 'radvd.pid'), '-m', 'stderr']);
}

/** radclient(1) in the wan namespace sends a Disconnect- or CoA-Request to the gateway. */
export function radclient(e: E2eLab, kind: 'disconnect' | 'coa', attrs: string, secret = SECRET): { status: number; out: string } {
  const r = e.in(e.lab.wan, ['sh', '-c', `printf '%s\\n' "$1" | radclient -x -t 2 -r 1 "$2" "$3" "$4"`, 'sh', attrs, `${LAB.gwWanV4}:3799`, kind, secret], 20_000);
  return { status: r.status, out: r.stdout + r.stderr };
}

/**
 * A throwaway CA (EC P-256, two days) and a server certificate for `name` and
 * `ip` signed by it, made with openssl(1) in `dir`.
 */
export function makeCertificate(dir: string, name: string, ip: string): { ca: string; cert: string; key: string } {
  const f = (n: string): string => join(dir, n);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  mustRun(['openssl', 'req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=moat test CA']);
  mustRun(['openssl', 'req', ...ec, '-keyout', f('portal.key'), '-out', f('portal.csr'), '-subj', `/CN=${name}`]);
  writeFileSync(f('portal.ext'), `subjectAltName=DNS:${name},IP:${ip}\nextendedKeyUsage=serverAuth\n`);
  mustRun(['openssl', 'x509', '-req', '-in', f('portal.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', f('portal.ext'), '-out', f('portal.pem')]);
  return { ca: f('ca.pem'), cert: f('portal.pem'), key: f('portal.key') };
}

/**
 * Run a command without blocking the event loop: freeradius -X logs into a
 * pipe this process drains, and stops answering when it fills.
 */
export function runAsync(argv: readonly string[], timeoutMs: number): Promise<Run> {
  const [cmd = 'false', ...args] = argv;
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    c.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    c.once('close', (code) => {
      resolve({ status: code ?? -1, stdout, stderr });
    });
  });
}

/** The JSON line a background node program prints when it ends. */
export function resultOf(c: ChildProcess): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    let out = '';
    c.stdout?.on('data', (b: Buffer) => (out += b.toString()));
    c.once('exit', () => {
      try {
        resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>);
      } catch {
        resolve({ raw: out });
      }
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll until `f` is true or the time is up; returns whether it became true. */
export async function until(f: () => boolean | Promise<boolean>, ms: number, every = 200): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await f()) return true;
    await sleep(every);
  }
  return f();
}
