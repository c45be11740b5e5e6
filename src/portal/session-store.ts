// The sessions, in memory and in a journal file that survives kill -9: each
// change is written whole to a temporary file, fsynced and renamed over
// sessions.json (core's atomic writer), so a restart reads either the state
// before a change or after it, never half of one. Writes are coalesced: a
// change that arrives while one write is under way goes out in the next, and
// its save() resolves when that one is done (not when writing stops, which
// under a steady stream of logins would be never).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MoatError, errnoReason, isErrnoException, writeFilesAtomically } from '../core/index.js';
import { Coalesced } from './coalesced.js';
import type { Counters, SessionPolicy } from './ports.js';
import type { Session } from './session.js';

const FILE = 'sessions.json';
const VERSION = 1;

export class SessionStore {
  private readonly byMac = new Map<string, Session>();
  private readonly dir: string;
  private readonly writes = new Coalesced(() => this.write());

  constructor(stateDir: string) {
    this.dir = stateDir;
  }

  get size(): number {
    return this.byMac.size;
  }

  all(): Session[] {
    return [...this.byMac.values()];
  }

  byMacAddress(mac: string): Session | undefined {
    return this.byMac.get(mac.toLowerCase());
  }

  byIp(ip: string): Session | undefined {
    for (const s of this.byMac.values()) if (s.client.ipv4 === ip) return s;
    return undefined;
  }

  byId(id: string): Session | undefined {
    for (const s of this.byMac.values()) if (s.id === id) return s;
    return undefined;
  }

  put(s: Session): void {
    this.byMac.set(s.client.mac, s);
  }

  remove(s: Session): void {
    if (this.byMac.get(s.client.mac) === s) this.byMac.delete(s.client.mac);
  }

  /** Read the journal; a missing one is an empty store. */
  async load(): Promise<number> {
    const path = join(this.dir, FILE);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      if (isErrnoException(e) && e.code === 'ENOENT') return 0;
      throw new MoatError('MOAT_PORTAL_STATE_READ', `cannot read ${path}: ${errnoReason(e)}`, { cause: e });
    }
    let sessions: Session[];
    try {
      sessions = decode(JSON.parse(text) as unknown);
    } catch (e) {
      throw new MoatError('MOAT_PORTAL_STATE_BAD', `${path}: not a session journal: ${e instanceof Error ? e.message : String(e)}`);
    }
    this.byMac.clear();
    for (const s of sessions) this.byMac.set(s.client.mac, s);
    return sessions.length;
  }

  /** Resolves when the state as it is now is on disk. */
  save(): Promise<void> {
    return this.writes.run();
  }

  private async write(): Promise<void> {
    const text = JSON.stringify({ version: VERSION, sessions: this.all().map(encode) });
    await writeFilesAtomically(this.dir, [{ path: FILE, content: text, mode: 0o600 }]);
  }
}

type Json = Record<string, unknown>;

function encodeCounters(c: Counters): Json {
  return { bu: String(c.bytesUp), bd: String(c.bytesDown), pu: String(c.packetsUp), pd: String(c.packetsDown) };
}

function decodeCounters(j: unknown): Counters {
  const o = j as Record<string, string>;
  return { bytesUp: BigInt(o.bu ?? '0'), bytesDown: BigInt(o.bd ?? '0'), packetsUp: BigInt(o.pu ?? '0'), packetsDown: BigInt(o.pd ?? '0') };
}

function encodePolicy(p: SessionPolicy): Json {
  return {
    ...p,
    terminateTime: p.terminateTime?.getTime(),
    class: p.class?.map((b) => b.toString('base64')),
    maxInputOctets: p.maxInputOctets?.toString(),
    maxOutputOctets: p.maxOutputOctets?.toString(),
    maxTotalOctets: p.maxTotalOctets?.toString(),
  };
}

function decodePolicy(j: unknown): SessionPolicy {
  const o = (j ?? {}) as Record<string, unknown>;
  const p: SessionPolicy = {};
  for (const k of ['sessionTimeout', 'idleTimeout', 'interimInterval', 'bandwidthUp', 'bandwidthDown'] as const) {
    if (typeof o[k] === 'number') p[k] = o[k];
  }
  if (typeof o.terminateTime === 'number') p.terminateTime = new Date(o.terminateTime);
  if (typeof o.redirectionUrl === 'string') p.redirectionUrl = o.redirectionUrl;
  if (Array.isArray(o.class)) p.class = o.class.map((c) => Buffer.from(String(c), 'base64'));
  for (const k of ['maxInputOctets', 'maxOutputOctets', 'maxTotalOctets'] as const) {
    if (typeof o[k] === 'string') p[k] = BigInt(o[k]);
  }
  return p;
}

function encode(s: Session): Json {
  return {
    id: s.id,
    client: s.client,
    userName: s.userName,
    kind: s.kind,
    startedAt: s.startedAt,
    policy: encodePolicy(s.policy),
    totals: encodeCounters(s.totals),
    lastKernel: encodeCounters(s.lastKernel),
    lastActivity: s.lastActivity,
    lastInterim: s.lastInterim,
    startSent: s.startSent,
  };
}

function decode(j: unknown): Session[] {
  const o = j as { version?: unknown; sessions?: unknown };
  if (o.version !== VERSION || !Array.isArray(o.sessions)) throw new Error(`version ${String(o.version)}`);
  return o.sessions.map((x: unknown) => {
    const r = x as Record<string, unknown>;
    const c = r.client as Record<string, unknown>;
    if (typeof r.id !== 'string' || typeof c.mac !== 'string' || typeof c.ipv4 !== 'string' || typeof c.ifname !== 'string') throw new Error('a session lacks id or client');
    return {
      id: r.id,
      client: {
        ifname: c.ifname,
        mac: c.mac,
        ipv4: c.ipv4,
        ...(Array.isArray(c.ipv6) && c.ipv6.length > 0 ? { ipv6: c.ipv6.map(String) } : {}),
      },
      userName: String(r.userName),
      kind: (['radius', 'mac', 'trusted', 'admin'].includes(String(r.kind)) ? r.kind : 'radius') as Session['kind'],
      startedAt: Number(r.startedAt),
      policy: decodePolicy(r.policy),
      totals: decodeCounters(r.totals),
      lastKernel: decodeCounters(r.lastKernel),
      lastActivity: Number(r.lastActivity),
      lastInterim: Number(r.lastInterim),
      startSent: r.startSent === true,
    };
  });
}
