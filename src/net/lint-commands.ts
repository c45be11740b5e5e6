// Route and address commands as they appear in hostname.if(5) "!" lines,
// netstart.local, route.conf(5), rc.conf(5) route_* values and ip(8)
// scripts, turned into the events the route rules look at.
import { isIP } from 'node:net';
import { netmaskLength, parsePrefixed } from './address.js';
import type { FileFacts } from './lint-facts.js';

/** route(8) options that take a value, on the BSDs. */
const VALUED = new Set(['-netmask', '-ifa', '-ifp', '-mtu', '-hopcount', '-expire', '-recvpipe', '-sendpipe', '-ssthresh', '-rtt', '-rttvar', '-label', '-priority', '-T', '-prefixlen', '-fib']);
const ONLINK_FLAGS = new Set(['-link', '-iface', '-interface', '-llinfo', '-cloning']);

/** Split a command into words, dropping quotes (no expansion: we never run it). */
export function words(text: string): string[] {
  return (text.match(/"[^"]*"|'[^']*'|\S+/g) ?? []).map((w) => w.replace(/^["']|["']$/g, ''));
}

function bare(addr: string): string {
  return addr.replace(/\/(32|128)$/, '');
}

/** BSD route(8) arguments after "add": a default route or an on-link host route. */
export function bsdRouteArgs(args: readonly string[], facts: FileFacts, line: number): void {
  const positional: string[] = [];
  const flags = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a.startsWith('-')) {
      flags.add(a);
      if (VALUED.has(a)) i++;
    } else positional.push(a);
  }
  const [dest, gateway] = positional;
  if (dest === undefined) return;
  if (dest === 'default' || dest === '0.0.0.0' || dest === '0.0.0.0/0') {
    if (gateway !== undefined && isIP(gateway) !== 0) {
      facts.routes.push({ kind: 'default', gateway, onlink: flags.has('-iface') || flags.has('-interface'), file: facts.file, line });
    }
    return;
  }
  const viaInterface = gateway === undefined || isIP(gateway) === 0;
  if ([...flags].some((f) => ONLINK_FLAGS.has(f)) && viaInterface && isIP(bare(dest)) !== 0) {
    facts.routes.push({ kind: 'onlink', dest: bare(dest), file: facts.file, line });
  }
}

/** One shell command line: route, ifconfig, ip, bhyve or qemu. */
export function shellCommand(text: string, facts: FileFacts, line: number): void {
  const w = words(text);
  let cmd = w[0] ?? '';
  let rest = w.slice(1);
  if (cmd === 'exec') {
    cmd = rest[0] ?? '';
    rest = rest.slice(1);
  }
  const base = cmd.replace(/^.*\//, '');
  if (base === 'route') {
    const at = rest.indexOf('add');
    if (at >= 0) bsdRouteArgs(rest.slice(at + 1), facts, line);
  } else if (base === 'ifconfig') {
    bsdIfconfigArgs(rest.slice(1), facts, line);
  } else if (base === 'ip') {
    ipCommand(rest, facts, line);
  } else if (base === 'bhyve') {
    bhyveArgs(rest, facts, line);
  } else if (base.startsWith('qemu-system')) {
    qemuArgs(rest, facts, line);
  }
}

/**
 * ifconfig(8) arguments after the interface: [inet] A[/len] [netmask M], or
 * inet6 [alias] A [DEST] [prefixlen N]. A point-to-point destination is on-link.
 */
export function bsdIfconfigArgs(args: readonly string[], facts: FileFacts, line: number): void {
  const v6 = args[0] === 'inet6';
  let a = args[0] === 'inet' || args[0] === 'inet6' ? args.slice(1) : args;
  if (a[0] === 'alias') a = a.slice(1);
  const addr = a[0];
  if (addr === undefined) return;
  let p = parsePrefixed(addr);
  if (p === undefined || (p.family === 6) !== v6) return;
  if (v6) {
    const pl = a.indexOf('prefixlen');
    const n = pl >= 0 ? Number(a[pl + 1]) : /^\d{1,3}$/.test(a[1] ?? '') ? Number(a[1]) : undefined;
    if (!addr.includes('/') && n !== undefined && n >= 0 && n <= 128) p = { ...p, length: n };
    facts.routes.push({ kind: 'addr', prefix: p, file: facts.file, line });
    const dest = a[1];
    if (dest !== undefined && isIP(dest) === 6) facts.routes.push({ kind: 'onlink', dest, file: facts.file, line });
    return;
  }
  const mi = a.indexOf('netmask');
  const mask = mi >= 0 ? a[mi + 1] : a[1] !== undefined && /^(\d+\.){3}\d+$|^0x/i.test(a[1]) ? a[1] : undefined;
  if (!addr.includes('/') && mask !== undefined) {
    const len = netmaskLength(mask);
    if (len !== undefined) p = { ...p, length: len };
  }
  facts.routes.push({ kind: 'addr', prefix: p, file: facts.file, line });
}

function ipCommand(args: readonly string[], facts: FileFacts, line: number): void {
  const a = args.filter((x) => !/^-[46]$/.test(x));
  const object = a[0] ?? '';
  const verb = a[1] ?? '';
  if (!['add', 'append', 'replace', 'change'].includes(verb)) return;
  const rest = a.slice(2);
  if ('address'.startsWith(object) && object.length > 0) {
    const p = parsePrefixed(rest[0] ?? '');
    if (p !== undefined) facts.routes.push({ kind: 'addr', prefix: p, file: facts.file, line });
    const peer = rest.indexOf('peer');
    const peerAddr = peer >= 0 ? rest[peer + 1] : undefined;
    if (peerAddr !== undefined) facts.routes.push({ kind: 'onlink', dest: bare(peerAddr), file: facts.file, line });
  } else if ('route'.startsWith(object) && object.length > 0) {
    const dest = rest[0] ?? '';
    const via = rest.indexOf('via');
    const gw = via >= 0 ? rest[via + 1] : undefined;
    if (dest === 'default' || dest === '0.0.0.0/0' || dest === '::/0') {
      if (gw !== undefined) facts.routes.push({ kind: 'default', gateway: gw, onlink: rest.includes('onlink'), file: facts.file, line });
    } else if (gw === undefined && isIP(bare(dest)) !== 0) {
      facts.routes.push({ kind: 'onlink', dest: bare(dest), file: facts.file, line });
    }
  }
}

function bhyveArgs(args: readonly string[], facts: FileFacts, line: number): void {
  for (let i = 0; i < args.length; i++) {
    if (args[i] !== '-s') continue;
    const slot = args[i + 1] ?? '';
    if (!/,(virtio-net|e1000),/.test(`${slot},`)) continue;
    const mac = /,mac=([0-9A-Fa-f:]{17})/.exec(slot)?.[1];
    if (mac === undefined) facts.nicsWithoutMac.push({ file: facts.file, line });
    else facts.macs.push({ mac: mac.toLowerCase(), file: facts.file, line });
  }
}

function qemuArgs(args: readonly string[], facts: FileFacts, line: number): void {
  for (let i = 0; i < args.length; i++) {
    const opt = args[i];
    const val = args[i + 1] ?? '';
    const isNic = (opt === '-device' && /^(virtio-net|e1000|rtl8139)/.test(val)) || opt === '-nic' || (opt === '-net' && val.startsWith('nic'));
    if (!isNic) continue;
    const mac = /(?:^|,)mac(?:addr)?=([0-9A-Fa-f:]{17})/.exec(val)?.[1];
    if (mac === undefined) facts.nicsWithoutMac.push({ file: facts.file, line });
    else facts.macs.push({ mac: mac.toLowerCase(), file: facts.file, line });
  }
}
