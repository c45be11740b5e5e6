// Network namespaces for the Linux tests: a guest joined to a gateway by a
// veth pair, the gateway in another subnet than the guest's /32, and a host
// behind the gateway. Every name is moat-net-<pid>-<n>; `destroy` removes all.
import { spawnSync } from 'node:child_process';

let counter = 0;

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Run argv (never through a shell), with a time limit. */
export function run(argv: readonly string[], timeoutMs = 20_000): RunResult {
  const [cmd, ...args] = argv;
  const r = spawnSync(cmd ?? 'false', args, { encoding: 'utf8', timeout: timeoutMs, shell: false });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function mustRun(argv: readonly string[]): RunResult {
  const r = run(argv);
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${String(r.status)}): ${r.stderr.trim()}`);
  return r;
}

export function netnsName(): string {
  counter++;
  return `moat-net-${String(process.pid)}-${String(counter)}`;
}

export interface Lab {
  /** The guest: interface `ifname`, nothing configured on it yet. */
  readonly guest: string;
  readonly gateway: string;
  readonly behind: string;
  readonly ifname: string;
  readonly gatewayIp: string;
  readonly behindIp: string;
  destroy(): void;
}

/**
 * guest[ifname] ── veth ── gateway[gw0 192.0.2.1/24, up0 203.0.113.1/24] ── veth ── behind[eth0 203.0.113.50/24]
 * The gateway routes `guestIp`/32 back over gw0; the guest configures itself from rendered files.
 */
export function makeLab(guestIp: string, ifname = 'eth0'): Lab {
  const guest = netnsName();
  const gateway = netnsName();
  const behind = netnsName();
  const created: string[] = [];
  const destroy = (): void => {
    for (const ns of created.reverse()) run(['ip', 'netns', 'del', ns]);
  };
  try {
    for (const ns of [guest, gateway, behind]) {
      mustRun(['ip', 'netns', 'add', ns]);
      created.push(ns);
      mustRun(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    }
    mustRun(['ip', 'link', 'add', ifname, 'netns', guest, 'type', 'veth', 'peer', 'name', 'gw0', 'netns', gateway]);
    mustRun(['ip', 'link', 'add', 'up0', 'netns', gateway, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', behind]);
    mustRun(['ip', '-n', gateway, 'addr', 'add', '192.0.2.1/24', 'dev', 'gw0']);
    mustRun(['ip', '-n', gateway, 'addr', 'add', '203.0.113.1/24', 'dev', 'up0']);
    mustRun(['ip', '-n', gateway, 'link', 'set', 'gw0', 'up']);
    mustRun(['ip', '-n', gateway, 'link', 'set', 'up0', 'up']);
    mustRun(['ip', '-n', gateway, 'route', 'add', `${guestIp}/32`, 'dev', 'gw0', 'scope', 'link']);
    mustRun(['ip', 'netns', 'exec', gateway, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
    mustRun(['ip', '-n', behind, 'addr', 'add', '203.0.113.50/24', 'dev', 'eth0']);
    mustRun(['ip', '-n', behind, 'link', 'set', 'eth0', 'up']);
    mustRun(['ip', '-n', behind, 'route', 'add', 'default', 'via', '203.0.113.1']);
  } catch (e) {
    destroy();
    throw e;
  }
  return { guest, gateway, behind, ifname, gatewayIp: '192.0.2.1', behindIp: '203.0.113.50', destroy };
}

/** Run one ip(8) command (argv starting with "ip") inside a namespace. */
export function ipIn(ns: string, argv: readonly string[]): RunResult {
  return run(['ip', 'netns', 'exec', ns, ...argv]);
}

export function ping(ns: string, address: string): boolean {
  return run(['ip', 'netns', 'exec', ns, 'ping', '-c', '1', '-W', '2', address]).status === 0;
}

/** The ip commands of a rendered script: every line that starts with "ip ", split into words. */
export function ipLines(script: string): string[][] {
  return script
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('ip '))
    .map((l) => l.split(/\s+/));
}

/** systemd.network(5) → the ip commands networkd would issue for our subset. */
export function networkdToIp(text: string): string[][] {
  const out: string[][] = [];
  let section = '';
  let name = '';
  let route: Record<string, string> = {};
  const flush = (): void => {
    if (section === 'Route' && route.Gateway !== undefined) {
      const dest = route.Destination ?? 'default';
      const onlink = /^(yes|true|1|on)$/i.test(route.GatewayOnLink ?? '');
      out.push(['ip', 'route', 'add', dest === '0.0.0.0/0' ? 'default' : dest, 'via', route.Gateway, 'dev', name, ...(onlink ? ['onlink'] : [])]);
    }
    route = {};
  };
  for (const raw of text.split('\n')) {
    const l = raw.trim();
    if (l === '' || l.startsWith('#')) continue;
    const sec = /^\[(\w+)\]$/.exec(l);
    if (sec) {
      flush();
      section = sec[1] ?? '';
      continue;
    }
    const [k = '', v = ''] = l.split('=', 2);
    if (section === 'Match' && k === 'Name') {
      name = v;
      out.push(['ip', 'link', 'set', 'dev', name, 'up']);
    } else if (section === 'Network' && k === 'Address') out.push(['ip', 'addr', 'add', v, 'dev', name]);
    else if (section === 'Route') route[k] = v;
  }
  flush();
  return out;
}

/** interfaces(5) inet static → the ip commands ifupdown's inet static method issues. */
export function ifupdownToIp(text: string): string[][] {
  const o: Record<string, string> = {};
  let iface = '';
  for (const raw of text.split('\n')) {
    const l = raw.trim();
    const m = /^iface (\S+) inet static$/.exec(l);
    if (m) iface = m[1] ?? '';
    else if (iface !== '' && /^(address|netmask|pointopoint|gateway) /.test(l)) {
      const [k = '', v = ''] = l.split(/\s+/);
      o[k] = v;
    } else if (l.startsWith('iface ')) iface = '';
  }
  const len = (o.netmask ?? '255.255.255.255').split('.').reduce((n, b) => n + Number(b).toString(2).replace(/0/g, '').length, 0);
  const out: string[][] = [['ip', 'addr', 'add', `${o.address ?? ''}/${String(len)}`, ...(o.pointopoint ? ['peer', o.pointopoint] : []), 'dev', iface]];
  out.push(['ip', 'link', 'set', 'dev', iface, 'up']);
  if (o.gateway) out.push(['ip', 'route', 'add', 'default', 'via', o.gateway, 'dev', iface]);
  return out;
}
