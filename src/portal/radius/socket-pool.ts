// The client's UDP sockets for one address family. Each socket has 256
// Identifiers per server (RFC 2865 §3); when all are in use a new socket (a
// new source port) is opened, up to maxSockets, and past that requests wait
// in a bounded queue for an Identifier to be freed.
import type { Socket, RemoteInfo } from 'node:dgram';
import { lazyDgram } from '../../core/index.js';
import { radiusError, RADIUS_ERROR } from './errors.js';
import { IdAllocator } from './id-allocator.js';

export interface Lease {
  /** Which socket of the pool: part of the key a reply is matched on. */
  slot: number;
  identifier: number;
  release(): void;
}

interface Slot {
  socket: Promise<Socket>;
  ids: Map<string, IdAllocator>;
}

export class SocketPool {
  private readonly slots: Slot[] = [];
  private readonly waiters = new Map<string, { resolve: (l: Lease) => void; reject: (e: Error) => void }[]>();
  private waiting = 0;
  private closed = false;

  constructor(
    private readonly family: 'udp4' | 'udp6',
    private readonly bindAddress: string | undefined,
    private readonly maxSockets: number,
    private readonly maxWaiting: number,
    private readonly onMessage: (slot: number, msg: Buffer, rinfo: RemoteInfo) => void,
    private readonly onError: (err: Error) => void,
  ) {}

  /** A socket and a free Identifier towards `dest` ("address|port"), waiting (bounded) when there is none. */
  async acquire(dest: string): Promise<Lease> {
    if (this.closed) throw radiusError(RADIUS_ERROR.closed, 'RADIUS client is closed');
    const lease = this.tryAny(dest);
    if (lease !== undefined) return lease;
    if (this.waiting >= this.maxWaiting) {
      throw radiusError(RADIUS_ERROR.busy, `RADIUS identifiers to ${dest} exhausted on ${String(this.maxSockets)} sockets and ${String(this.maxWaiting)} requests waiting`);
    }
    this.waiting++;
    const p = new Promise<Lease>((resolve, reject) => {
      const list = this.waiters.get(dest) ?? [];
      list.push({ resolve, reject });
      this.waiters.set(dest, list);
    });
    return p;
  }

  /** A lease on the first socket with a usable Identifier, opening a new socket when all are used up. */
  private tryAny(dest: string): Lease | undefined {
    for (let slot = 0; slot < this.slots.length; slot++) {
      const lease = this.tryLease(slot, dest);
      if (lease !== undefined) return lease;
    }
    if (this.slots.length >= this.maxSockets) return undefined;
    const slot = this.slots.length;
    const socket = this.bind(slot);
    // Observed by socketOf(); a failed bind must not be an unhandled rejection here.
    socket.catch(() => undefined);
    this.slots.push({ socket, ids: new Map() });
    return this.tryLease(slot, dest);
  }

  private tryLease(slot: number, dest: string): Lease | undefined {
    const s = this.slots[slot];
    if (s === undefined) return undefined;
    let ids = s.ids.get(dest);
    if (ids === undefined) {
      ids = new IdAllocator();
      s.ids.set(dest, ids);
    }
    const identifier = ids.tryAcquire();
    if (identifier === undefined) return undefined;
    const allocator = ids;
    let released = false;
    return {
      slot,
      identifier,
      release: () => {
        if (released) return;
        released = true;
        allocator.release(identifier);
        this.wake(dest);
      },
    };
  }

  /** Hand free Identifiers to the requests waiting for `dest`. */
  private wake(dest: string): void {
    if (this.closed) return;
    const list = this.waiters.get(dest);
    while (list !== undefined && list.length > 0) {
      const lease = this.tryAny(dest);
      if (lease === undefined) break;
      const w = list.shift();
      this.waiting--;
      w?.resolve(lease);
    }
    if (list?.length === 0) this.waiters.delete(dest);
  }

  /** The bound socket of a lease (it may still be binding when the lease is handed out). */
  async socketOf(lease: Lease): Promise<Socket> {
    const s = this.slots[lease.slot];
    if (s === undefined) throw radiusError(RADIUS_ERROR.closed, 'RADIUS client is closed');
    return s.socket;
  }

  private async bind(slot: number): Promise<Socket> {
    const s = lazyDgram().createSocket({ type: this.family });
    s.on('message', (msg, rinfo) => {
      this.onMessage(slot, msg, rinfo);
    });
    // A socket error must never take the process down; the request simply times out.
    s.on('error', (err) => {
      this.onError(err);
    });
    await new Promise<void>((resolve, reject) => {
      const fail = (err: Error): void => {
        s.close();
        reject(radiusError(RADIUS_ERROR.bind, `cannot bind RADIUS client socket: ${err.message}`, err));
      };
      s.once('error', fail);
      s.bind(this.bindAddress === undefined ? {} : { address: this.bindAddress }, () => {
        s.off('error', fail);
        resolve();
      });
    });
    return s;
  }

  /** Close every socket; waiters reject with MOAT_PORTAL_RADIUS_CLOSED. */
  async close(): Promise<void> {
    this.closed = true;
    const e = radiusError(RADIUS_ERROR.closed, 'RADIUS client closed');
    for (const list of this.waiters.values()) for (const w of list) w.reject(e);
    this.waiters.clear();
    this.waiting = 0;
    const sockets = await Promise.allSettled(this.slots.map((s) => s.socket));
    this.slots.length = 0;
    await Promise.all(
      sockets.map((r) => (r.status === 'fulfilled' ? new Promise<void>((resolve) => { r.value.close(() => { resolve(); }); }) : Promise.resolve())),
    );
  }
}
