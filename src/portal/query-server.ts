// The daemon's side of `moat portal query`, like chilli_query: a unix socket
// (mode 0660, root and one named group), one JSON request line in, one JSON
// answer line out.
import { chmod, chown, lstat, readFile, unlink } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { isIPv4 } from 'node:net';
import { MoatError, errnoReason, errorMessage, isErrnoException, type Logger } from '../core/index.js';
import type { ClientLookup } from './client-lookup.js';
import type { Gateway } from './gateway.js';
import type { PortalSettings } from './portal-config.js';
import { TERMINATE_CAUSE, type ClientKey } from './ports.js';
import { secondsRemaining, sessionTime, type Session } from './session.js';

export interface QueryRequest {
  cmd: string;
  args: string[];
}

export interface QueryAnswer {
  ok: boolean;
  text: string;
}

const MAX_REQUEST = 4096;

export class QueryServer {
  private server: Server | undefined;
  private path = '';
  private readonly sockets = new Set<Socket>();

  constructor(private readonly o: { gateway: Gateway; lookup: Pick<ClientLookup, 'lookup' | 'neighbours'>; logger: Logger; settings: () => PortalSettings; garden?: { add(a: string): Promise<void>; del(a: string): Promise<void> } }) {}

  async listen(path: string, group: string | undefined): Promise<void> {
    const gid = group === undefined ? undefined : await groupId(group);
    try {
      const st = await lstat(path);
      // Only a socket left by an earlier run is removed; anything else is not ours.
      if (!st.isSocket()) throw new MoatError('MOAT_PORTAL_QUERY_SOCKET', `${path} exists and is not a socket`);
      await unlink(path);
    } catch (e) {
      if (!(isErrnoException(e) && e.code === 'ENOENT')) throw e;
    }
    const server = createServer((sock) => {
      this.serve(sock);
    });
    server.maxConnections = 32;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e) => {
        reject(new MoatError('MOAT_PORTAL_QUERY_SOCKET', `cannot listen on ${path}: ${errnoReason(e)}`, { cause: e }));
      });
      server.listen(path, () => {
        resolve();
      });
    });
    await chmod(path, 0o660);
    if (gid !== undefined) await chown(path, 0, gid);
    this.server = server;
    this.path = path;
  }

  async close(): Promise<void> {
    const s = this.server;
    if (s === undefined) return;
    for (const sock of this.sockets) sock.destroy();
    await new Promise((r) => s.close(r));
    await unlink(this.path).catch(() => undefined);
  }

  private serve(sock: Socket): void {
    this.sockets.add(sock);
    sock.setTimeout(10_000, () => sock.destroy());
    let buf = '';
    sock.on('close', () => this.sockets.delete(sock));
    sock.on('error', () => undefined);
    sock.on('data', (c: Buffer) => {
      buf += c.toString('utf8');
      if (buf.length > MAX_REQUEST) {
        sock.destroy();
        return;
      }
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      sock.removeAllListeners('data');
      let req: QueryRequest;
      try {
        const v = JSON.parse(buf.slice(0, nl)) as Partial<QueryRequest>;
        if (typeof v.cmd !== 'string' || !Array.isArray(v.args) || !v.args.every((a) => typeof a === 'string')) throw new Error('bad request');
        req = { cmd: v.cmd, args: v.args };
      } catch {
        sock.end(`${JSON.stringify({ ok: false, text: 'bad request' })}\n`);
        return;
      }
      this.answer(req)
        .catch((e: unknown) => ({ ok: false, text: errorMessage(e) }))
        .then((a) => sock.end(`${JSON.stringify(a)}\n`))
        .catch(() => undefined);
    });
  }

  async answer(req: QueryRequest): Promise<QueryAnswer> {
    const g = this.o.gateway;
    const [a0, a1] = req.args;
    switch (req.cmd) {
      case 'list':
        return { ok: true, text: g.store.all().map((s) => listLine(s, g)).join('') };
      case 'show': {
        const s = a0 === undefined ? undefined : this.find(a0);
        if (s === undefined) return { ok: false, text: `no session for ${a0 ?? '(nothing)'}` };
        return { ok: true, text: showLines(s, g) };
      }
      case 'logout': {
        const s = a0 === undefined ? undefined : this.find(a0);
        if (s === undefined) return { ok: false, text: `no session for ${a0 ?? '(nothing)'}` };
        await g.logout(s, TERMINATE_CAUSE.adminReset);
        this.o.logger.notice('logged out by query', { id: s.id, mac: s.client.mac });
        return { ok: true, text: `${s.client.mac} logged out\n` };
      }
      case 'authorize': {
        if (a0 === undefined) return { ok: false, text: 'authorize wants a MAC or IP address' };
        const client = await this.client(a0);
        if (client === undefined) return { ok: false, text: `${a0} is not a neighbour on ${this.o.settings().config.interface}` };
        const s = await g.authorizeLocal(client, a1 ?? client.mac, 'admin');
        this.o.logger.notice('authorized by query', { id: s.id, mac: s.client.mac, user: s.userName });
        return { ok: true, text: `${s.client.mac} ${s.client.ipv4} authorized, session ${s.id}\n` };
      }
      case 'garden': {
        const c = this.o.settings().config.garden;
        if (a0 === undefined) return { ok: true, text: [...c.domains, ...c.addresses].map((x) => `${x}\n`).join('') };
        if ((a0 !== 'add' && a0 !== 'del') || a1 === undefined) return { ok: false, text: 'garden [add|del ADDRESS]' };
        if (this.o.garden === undefined) return { ok: false, text: 'garden add/del is not supported by this firewall backend' };
        await (a0 === 'add' ? this.o.garden.add(a1) : this.o.garden.del(a1));
        this.o.logger.notice(`garden ${a0}`, { address: a1 });
        return { ok: true, text: `${a1} ${a0 === 'add' ? 'added to' : 'removed from'} the garden\n` };
      }
      default:
        return { ok: false, text: `unknown query '${req.cmd}'` };
    }
  }

  private find(id: string): Session | undefined {
    const g = this.o.gateway.store;
    return isIPv4(id) ? g.byIp(id) : (g.byMacAddress(id.toLowerCase().replace(/-/g, ':')) ?? g.byId(id));
  }

  private async client(id: string): Promise<ClientKey | undefined> {
    if (isIPv4(id)) return this.o.lookup.lookup(id);
    const mac = id.toLowerCase().replace(/-/g, ':');
    const n = (await this.o.lookup.neighbours()).find((x) => x.mac === mac);
    return n === undefined ? undefined : { ifname: n.ifname, mac: n.mac, ipv4: n.ip };
  }
}

function listLine(s: Session, g: Gateway): string {
  const now = Date.now();
  return `${s.client.mac} ${s.client.ipv4} pass ${s.id} ${s.kind} ${s.userName} ${String(sessionTime(s, now))}/${String(s.policy.sessionTimeout ?? g.defaults.sessionTimeout)} ${String(s.totals.bytesUp)} ${String(s.totals.bytesDown)}\n`;
}

function showLines(s: Session, g: Gateway): string {
  const now = Date.now();
  const p = s.policy;
  const kv: [string, string | number | bigint | undefined][] = [
    ['mac', s.client.mac],
    ['ip', s.client.ipv4],
    ['ipv6', s.client.ipv6?.join(',')],
    ['interface', s.client.ifname],
    ['session-id', s.id],
    ['user', s.userName],
    ['kind', s.kind],
    ['started', new Date(s.startedAt).toISOString()],
    ['session-time', sessionTime(s, now)],
    ['idle-time', Math.floor((now - s.lastActivity) / 1000)],
    ['seconds-remaining', secondsRemaining(s, now, g.defaults)],
    ['input-octets', s.totals.bytesUp],
    ['output-octets', s.totals.bytesDown],
    ['input-packets', s.totals.packetsUp],
    ['output-packets', s.totals.packetsDown],
    ['session-timeout', p.sessionTimeout],
    ['idle-timeout', p.idleTimeout],
    ['interim-interval', p.interimInterval],
    ['bandwidth-up', p.bandwidthUp],
    ['bandwidth-down', p.bandwidthDown],
    ['max-total-octets', p.maxTotalOctets],
    ['terminate-time', p.terminateTime?.toISOString()],
  ];
  return kv.filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${String(v)}\n`).join('');
}

async function groupId(name: string): Promise<number> {
  const text = await readFile('/etc/group', 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const [n, , gid] = line.split(':');
    if (n === name && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  throw new MoatError('MOAT_PORTAL_QUERY_GROUP', `no group '${name}' in /etc/group`);
}
