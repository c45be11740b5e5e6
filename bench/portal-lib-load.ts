// The parts of `npm run bench -- portal` that need many namespaces or a load
// generator that is not itself the bottleneck:
// - a crowd of client namespaces, each with a macvlan on one lower device
//   ("air0", in a namespace of its own, as the radio of an access point),
//   whose veth peer is a port of the gateway's LAN bridge; each client gets
//   its lease from the portal's dnsmasq with Debian's dhclient;
// - bench/portal-load.c (built here with gcc, as the finger bench builds
//   fload): one process that opens its sockets in every namespace with
//   setns(2), for the crowd's logins and for the forwarding stream.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LAB, mustRun, run, type PortalLab } from '../test/helpers/portal-netns.js';

const here = dirname(fileURLToPath(import.meta.url));
const loadSource = join(here, '..', '..', 'bench', 'portal-load.c');

/** Build portal-load once per source version, in a temp dir keyed by its hash. */
export function buildPortalLoad(): string {
  const text = readFileSync(loadSource);
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), `moat-bench-portal-load-${hash}`);
  const bin = join(dir, 'portal-load');
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = `${bin}.${String(process.pid)}`;
    const r = spawnSync('gcc', ['-O2', '-Wall', '-Wextra', '-pthread', '-o', tmp, loadSource], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`building portal-load failed (is gcc installed?): ${r.stderr}`);
    renameSync(tmp, bin);
  }
  return bin;
}

/** Run portal-load without blocking the event loop (freeradius -X logs into a pipe this process drains). */
export function portalLoad<T>(bin: string, args: readonly string[], timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const c = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let out = '';
    let err = '';
    c.stdout.on('data', (b: Buffer) => (out += b.toString()));
    c.stderr.on('data', (b: Buffer) => (err += b.toString()));
    c.once('close', (code) => {
      if (code !== 0) {
        reject(new Error(`portal-load ${args[0] ?? ''} failed (${String(code)}): ${err.trim()}`));
        return;
      }
      try {
        resolve(JSON.parse(out) as T);
      } catch {
        reject(new Error(`portal-load ${args[0] ?? ''}: not JSON: ${out.slice(0, 200)}`));
      }
    });
  });
}

export interface Crowd {
  /** The client namespaces. */
  readonly clients: readonly string[];
  /** The address each client got from DHCP (after dhcp()). */
  readonly addresses: string[];
  /** dhclient in every client, `concurrency` at a time; resolves with the seconds it took. */
  dhcp(concurrency: number): Promise<number>;
  destroy(): void;
}

/** The MAC of crowd client i: locally administered, distinct from the lab's. */
function crowdMac(i: number): string {
  return `02:88:00:00:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;
}

/** A dhclient-script that only does what the bench needs: address and default route (the stock one also rewrites resolv.conf). */
const DHCLIENT_SCRIPT = `#!/bin/sh
case "$reason" in
BOUND|RENEW|REBIND|REBOOT)
  ip addr add "$new_ip_address/$new_subnet_mask" dev "$interface"
  ip route replace default via "$new_routers" dev "$interface" ;;
esac
exit 0
`;

/**
 * `n` client namespaces, each with a macvlan on air0 (mode private: stations
 * do not reach each other directly, as on an access point that isolates
 * them; everything goes through the gateway).
 */
export function makeCrowd(lab: PortalLab, n: number, dir: string): Crowd {
  const prefix = lab.gw.replace(/-gw$/, '');
  const air = `${prefix}-air`;
  const clients = Array.from({ length: n }, (_, i) => `${prefix}-m${String(i)}`);
  const made: string[] = [];
  const pidFiles: string[] = [];
  const killOurs = (): void => {
    // dhclient stays to renew; the bench started it, the bench ends it.
    for (const f of pidFiles) {
      const pid = Number(existsSync(f) ? readFileSync(f, 'utf8').trim() : NaN);
      if (Number.isInteger(pid) && pid > 1) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
    pidFiles.length = 0;
  };
  const destroy = (): void => {
    killOurs();
    // Deleting a client namespace deletes its macvlan; air0's veth goes with the air namespace.
    for (const ns of [...made].reverse()) run(['ip', 'netns', 'del', ns]);
    made.length = 0;
  };
  const batch = (argv: string[], lines: string[]): void => {
    const r = run([...argv, '-batch', '-'], 60_000, `${lines.join('\n')}\n`);
    if (r.status !== 0) throw new Error(`${argv.join(' ')} -batch failed: ${r.stderr.trim()}`);
  };
  try {
    mustRun(['ip', 'netns', 'add', air]);
    made.push(air);
    for (const c of clients) {
      mustRun(['ip', 'netns', 'add', c]);
      made.push(c);
    }
    mustRun(['ip', 'link', 'add', 'air0', 'netns', air, 'type', 'veth', 'peer', 'name', 'cpair', 'netns', lab.gw]);
    mustRun(['ip', '-n', lab.gw, 'link', 'set', 'cpair', 'master', LAB.lan]);
    mustRun(['ip', '-n', lab.gw, 'link', 'set', 'cpair', 'up']);
    mustRun(['ip', '-n', air, 'link', 'set', 'air0', 'up']);
    batch(
      ['ip', '-n', air],
      clients.flatMap((c, i) => [`link add m${String(i)} link air0 address ${crowdMac(i)} type macvlan mode private`, `link set m${String(i)} netns ${c}`]),
    );
    clients.forEach((c, i) => {
      batch(['ip', '-n', c], ['link set lo up', `link set m${String(i)} name eth0`, 'link set eth0 up']);
    });
  } catch (e) {
    destroy();
    throw e;
  }
  const addresses: string[] = [];
  return {
    clients,
    addresses,
    async dhcp(concurrency) {
      const script = join(dir, 'dhclient-script');
      writeFileSync(script, DHCLIENT_SCRIPT, { mode: 0o700 });
      const conf = join(dir, 'dhclient.conf');
      writeFileSync(conf, 'request subnet-mask, broadcast-address, routers;\n');
      const t0 = performance.now();
      let next = 0;
      const one = async (): Promise<void> => {
        while (next < clients.length) {
          const i = next++;
          const ns = clients[i] ?? '';
          const lf = join(dir, `m${String(i)}.leases`);
          const pf = join(dir, `m${String(i)}.pid`);
          pidFiles.push(pf);
          rmSync(lf, { force: true });
          const r = await runAsync(['ip', 'netns', 'exec', ns, 'dhclient', '-1', '-cf', conf, '-sf', script, '-lf', lf, '-pf', pf, 'eth0'], 60_000);
          if (r.status !== 0) throw new Error(`dhclient in ${ns} failed: ${r.stderr.trim()}`);
          const ip = [...readFileSync(lf, 'utf8').matchAll(/fixed-address (\S+);/g)].at(-1)?.[1];
          if (ip === undefined) throw new Error(`dhclient in ${ns}: no lease`);
          addresses[i] = ip;
        }
      };
      await Promise.all(Array.from({ length: concurrency }, one));
      killOurs();
      if (new Set(addresses).size !== clients.length) throw new Error('crowd: two clients got the same address');
      return (performance.now() - t0) / 1000;
    },
    destroy,
  };
}

function runAsync(argv: readonly string[], timeoutMs: number): Promise<{ status: number; stderr: string }> {
  const [cmd = 'false', ...args] = argv;
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: timeoutMs });
    let stderr = '';
    c.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    c.once('close', (code) => {
      resolve({ status: code ?? -1, stderr });
    });
  });
}

export interface CrowdClient {
  ip: string;
  /** HTTP status of the login answer (302: logged in); negative: an errno. */
  status: number;
  /** ms from the start; -1: never. */
  connected: number;
  posted: number;
  answered: number;
  online: number;
}

export interface CrowdResult {
  wallMs: number;
  /** portal-load's own CPU time over the run. */
  cpuMs: number;
  clients: CrowdClient[];
}

/** All clients log in at once (POST /login), each probing the wan until it is through. */
export function crowdLogin(bin: string, crowd: Crowd, wan: string, o: { sinkPort: number; probeMs: number; timeoutMs: number; user: string; password: string }): Promise<CrowdResult> {
  const args = ['crowd', LAB.gwV4, '3990', wan, LAB.wanV4, String(o.sinkPort), String(o.probeMs), String(o.timeoutMs), o.user, o.password, ...crowd.clients];
  return portalLoad<CrowdResult>(bin, args, o.timeoutMs + 30_000);
}

export interface StreamResult {
  bytes: number;
  ms: number;
  mbps: number;
  /** Share of a core each end's thread used (its system calls included). */
  srcCpu: number;
  dstCpu: number;
  /** ksoftirqd's CPU time in the window, ms (softirq work it took over). */
  ksoftirqdMs: number;
  /** CPU ms the window cost per GB moved: both threads and ksoftirqd; barely moved by other load on the machine. */
  cpuMsPerGB: number;
}

/** A TCP stream from the wan to a client, source on core 0, sink on core 1. */
export function stream(bin: string, from: string, to: string, port: number, warmupMs: number, ms: number): Promise<StreamResult> {
  return portalLoad<StreamResult>(bin, ['stream', from, to, LAB.wanV4, String(port), String(warmupMs), String(ms), '0', '1'], warmupMs + ms + 30_000);
}
