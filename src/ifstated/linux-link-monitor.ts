/**
 * Link state on Linux. `ip -o monitor link` prints one line per RTM_NEWLINK
 * or RTM_DELLINK as it happens; we follow it, respawn it if it dies, and take
 * a snapshot of /sys/class/net at start, after every respawn, and every
 * `reconcileMs` (a lost netlink message, or an ip that died unnoticed, heals
 * itself). Interfaces are tracked by ifindex so a rename moves the link; the
 * `@peer` suffix of veth/vlan names is stripped; the state is the RFC 2863
 * operstate (IF_OPER_*), not the IFF_UP/IFF_RUNNING flags; a deleted or
 * missing interface is down.
 */
import { readdir, readFile } from 'node:fs/promises';
import { LinkMonitorBase, type LinkMonitorHooks } from './link-monitor.js';
import type { LinkState } from './machine.js';

/** Documentation/networking/operstates.rst: only "up" is up; "unknown" stays unknown. */
export function operstateToLink(operstate: string): LinkState {
  const s = operstate.trim().toLowerCase();
  if (s === 'up') return 'up';
  if (s === 'unknown') return 'unknown';
  return 'down';
}

export interface MonitorLine {
  deleted: boolean;
  ifindex: number;
  ifname: string;
  /** The operstate word, when the line has one. */
  operstate?: string;
}

/** One line of `ip -o monitor link`. */
export function parseIpMonitorLine(line: string): MonitorLine | undefined {
  const m = /^(Deleted\s+)?(?:\[[A-Z]+\]\s*)?(\d+):\s+([^\s:@]+)(?:@[^\s:]+)?:\s+<([^>]*)>(.*)$/.exec(line.trim());
  if (m === null) return undefined;
  const rest = m[5] ?? '';
  const st = /\bstate\s+(\S+)/.exec(rest);
  const out: MonitorLine = { deleted: m[1] !== undefined, ifindex: Number(m[2]), ifname: m[3] ?? '' };
  if (st?.[1] !== undefined) out.operstate = st[1];
  return out;
}

export interface LinuxMonitorOptions extends LinkMonitorHooks {
  sysfs?: string;
  ipCommand?: string;
}

async function readSysfs(root: string): Promise<Map<number, { name: string; state: LinkState }>> {
  const out = new Map<number, { name: string; state: LinkState }>();
  let names: string[];
  try {
    names = await readdir(root);
  } catch {
    return out;
  }
  await Promise.all(
    names.map(async (name) => {
      try {
        const [idx, oper] = await Promise.all([readFile(`${root}/${name}/ifindex`, 'utf8'), readFile(`${root}/${name}/operstate`, 'utf8')]);
        out.set(Number(idx.trim()), { name, state: operstateToLink(oper) });
      } catch {
        // it went away between readdir and read: it is simply not there
      }
    }),
  );
  return out;
}

export class LinuxLinkMonitor extends LinkMonitorBase {
  private byIndex = new Map<number, { name: string; state: LinkState }>();
  /** Netlink messages seen, and the last one that named each interface and index. */
  private seq = 0;
  private reconciling = 0;
  private readonly touched = new Map<string, number>();
  private readonly touchedIndex = new Map<number, number>();

  constructor(private readonly options: LinuxMonitorOptions) {
    super(options, { command: options.ipCommand ?? 'ip', args: ['-o', 'monitor', 'link'], label: 'ip monitor' });
  }

  /** Compare /sys/class/net with what we believe and report the differences. */
  override async reconcile(): Promise<void> {
    // The reads below yield to the event loop, and a netlink message that
    // arrives meanwhile is newer than what sysfs gave us: an interface or
    // index touched since `since` keeps the message's word, so a slow
    // reconcile can never undo a fresh event (a false flap).
    const since = this.seq;
    this.reconciling++;
    let now: Map<number, { name: string; state: LinkState }>;
    try {
      now = await readSysfs(this.options.sysfs ?? '/sys/class/net');
    } finally {
      this.reconciling--;
    }
    const fresh = (name: string): boolean => (this.touched.get(name) ?? 0) > since;
    for (const [index, at] of this.touchedIndex) {
      if (at <= since) continue;
      const current = this.byIndex.get(index);
      if (current === undefined) now.delete(index);
      else now.set(index, current);
    }
    const present = new Set<string>();
    // In ifindex order, so the first events are the same from run to run.
    for (const [, { name, state }] of [...now].sort((a, b) => a[0] - b[0])) {
      present.add(name);
      if (!fresh(name)) this.set(name, state);
    }
    for (const [name, state] of this.states) if (!present.has(name) && state !== 'down' && !fresh(name)) this.set(name, 'down');
    this.byIndex = now;
    // Bounded: with no other reconcile in flight, old marks can go.
    if (this.reconciling === 0) {
      for (const [k, at] of this.touched) if (at <= since) this.touched.delete(k);
      for (const [k, at] of this.touchedIndex) if (at <= since) this.touchedIndex.delete(k);
    }
  }

  protected onLine(line: string): void {
    const m = parseIpMonitorLine(line);
    if (m === undefined) return;
    this.seq++;
    this.touched.set(m.ifname, this.seq);
    this.touchedIndex.set(m.ifindex, this.seq);
    const known = this.byIndex.get(m.ifindex);
    if (known !== undefined) this.touched.set(known.name, this.seq);
    if (m.deleted) {
      this.byIndex.delete(m.ifindex);
      this.set(known?.name ?? m.ifname, 'down');
      return;
    }
    // A new name for a known index is a rename: the old name is gone.
    if (known !== undefined && known.name !== m.ifname) this.set(known.name, 'down');
    const state = m.operstate === undefined ? (known?.state ?? 'unknown') : operstateToLink(m.operstate);
    this.byIndex.set(m.ifindex, { name: m.ifname, state });
    this.set(m.ifname, state);
  }

}
