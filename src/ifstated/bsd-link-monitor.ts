/**
 * Link state on FreeBSD and OpenBSD, from the output of route(8) and
 * ifconfig(8), since Node has no routing socket. `route -n monitor` prints
 * each routing message; RTM_IFINFO carries `if# N` and `link: STATE` (OpenBSD
 * also `name IF`), RTM_IFANNOUNCE carries `what: arrival|departure`. The
 * names and states of all interfaces come from `ifconfig`, whose `status:`
 * line is the media status (ifmedia(4)): "active" is up, "no carrier" down,
 * and an interface without one (lo0) has an unknown link state.
 */
import { spawn } from 'node:child_process';
import { LinkMonitorBase, type LinkMonitorHooks } from './link-monitor.js';
import type { LinkState } from './machine.js';

export interface IfconfigEntry {
  name: string;
  index?: number;
  flags: string[];
  state: LinkState;
}

/** route(8) prints link_state as text: FreeBSD up/down/unknown, OpenBSD active/no carrier/... */
export function linkWordToState(word: string): LinkState {
  const w = word.trim().toLowerCase();
  // carp(4): master is up, backup down, init unknown.
  if (w === 'up' || w === 'active' || w === 'master' || w.endsWith('duplex')) return 'up';
  if (w === 'down' || w === 'no carrier' || w === 'no-carrier' || w === 'invalid' || w === 'backup') return 'down';
  return 'unknown';
}

/** Parse the whole output of `ifconfig` (FreeBSD or OpenBSD). */
export function parseIfconfig(text: string): IfconfigEntry[] {
  const out: IfconfigEntry[] = [];
  let cur: IfconfigEntry | undefined;
  for (const line of text.split('\n')) {
    const head = /^([A-Za-z0-9_.-]+):\s+flags=[0-9a-fA-F]+<([^>]*)>/.exec(line);
    if (head !== null) {
      cur = { name: head[1] ?? '', flags: (head[2] ?? '').split(',').filter((f) => f !== ''), state: 'unknown' };
      out.push(cur);
      continue;
    }
    if (cur === undefined || !/^\s/.test(line)) continue;
    const idx = /^\s+index\s+(\d+)/.exec(line);
    if (idx !== null) cur.index = Number(idx[1]);
    const st = /^\s+status:\s+(.+?)\s*$/.exec(line);
    if (st?.[1] !== undefined) cur.state = linkWordToState(st[1]);
  }
  return out;
}

export interface RouteMessage {
  type: 'RTM_IFINFO' | 'RTM_IFANNOUNCE';
  ifindex: number;
  ifname?: string;
  state?: LinkState;
  what?: 'arrival' | 'departure';
}

/** One line of `route -n monitor`; other message types give undefined. */
export function parseRouteMonitorLine(line: string): RouteMessage | undefined {
  const t = /^(RTM_IFINFO|RTM_IFANNOUNCE):/.exec(line.trim());
  if (t === null) return undefined;
  const idx = /\bif#\s*(\d+)/.exec(line);
  if (idx === null) return undefined;
  const msg: RouteMessage = { type: t[1] === 'RTM_IFINFO' ? 'RTM_IFINFO' : 'RTM_IFANNOUNCE', ifindex: Number(idx[1]) };
  const name = /\bname:?\s+([A-Za-z0-9_.-]+)/.exec(line);
  if (name?.[1] !== undefined) msg.ifname = name[1];
  const link = /\blink:\s*([a-z -]+?)(?:,|\s+flags|$)/i.exec(line);
  if (link?.[1] !== undefined) msg.state = linkWordToState(link[1]);
  const what = /\bwhat:\s*(arrival|departure)/.exec(line);
  if (what?.[1] !== undefined) msg.what = what[1] === 'arrival' ? 'arrival' : 'departure';
  return msg;
}

/**
 * ifconfig's output, or undefined when it could not be had (not started,
 * killed at the timeout, a non-zero exit, too much output): then we know
 * nothing new, which is not the same as "every interface is gone".
 */
function runIfconfig(cmd: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = spawn(cmd, [], { stdio: ['ignore', 'pipe', 'ignore'], shell: false });
    let out = '';
    let overflow = false;
    child.stdout.on('data', (c: Buffer) => {
      if (out.length < 4 * 1024 * 1024) out += c.toString('utf8');
      else overflow = true;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('error', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve(code === 0 && !overflow ? out : undefined);
    });
  });
}

export interface BsdMonitorOptions extends LinkMonitorHooks {
  routeCommand?: string;
  ifconfigCommand?: string;
}

export class BsdLinkMonitor extends LinkMonitorBase {
  private readonly names = new Map<number, string>();

  constructor(private readonly options: BsdMonitorOptions) {
    super(options, { command: options.routeCommand ?? 'route', args: ['-n', 'monitor'], label: 'route monitor' });
  }

  override async reconcile(): Promise<void> {
    const text = await runIfconfig(this.options.ifconfigCommand ?? 'ifconfig');
    if (text === undefined) {
      this.options.onError('ifconfig failed; keeping the link states as they were');
      return;
    }
    const present = new Set<string>();
    for (const e of parseIfconfig(text)) {
      present.add(e.name);
      if (e.index !== undefined) this.names.set(e.index, e.name);
      this.set(e.name, e.state);
    }
    for (const [name, state] of this.states) if (!present.has(name) && state !== 'down') this.set(name, 'down');
  }

  protected onLine(line: string): void {
    const m = parseRouteMonitorLine(line);
    if (m === undefined) return;
    const name = m.ifname ?? this.names.get(m.ifindex);
    if (m.ifname !== undefined) this.names.set(m.ifindex, m.ifname);
    if (m.what === 'departure' && name !== undefined) {
      this.set(name, 'down');
      return;
    }
    if (name !== undefined && m.state !== undefined) {
      this.set(name, m.state);
      return;
    }
    // FreeBSD's RTM_IFINFO has no name: ask ifconfig who changed.
    this.reconcileReporting();
  }

}
