// RADIUS Identifiers for one (socket, server) pair: 256 of them (RFC 2865 §3),
// handed out round-robin so that a freed identifier is reused as late as
// possible (a late reply to the old request then fails its authenticator
// check rather than matching), with a bounded queue of waiters.
import { radiusError, RADIUS_ERROR } from './errors.js';

export class IdAllocator {
  private readonly inUse = new Uint8Array(256);
  private used = 0;
  private next: number;
  private readonly waiters: { resolve: (id: number) => void; reject: (e: Error) => void }[] = [];

  /** `maxWaiting` requests may queue for an identifier; one more is refused (MOAT_PORTAL_RADIUS_BUSY). */
  constructor(private readonly maxWaiting: number, start = Math.floor(Math.random() * 256)) {
    this.next = start & 0xff;
  }

  get outstanding(): number {
    return this.used;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /** A free identifier now, or undefined when all 256 are taken. */
  tryAcquire(): number | undefined {
    if (this.used >= 256) return undefined;
    while (this.inUse[this.next] === 1) this.next = (this.next + 1) & 0xff;
    const id = this.next;
    this.inUse[id] = 1;
    this.used++;
    this.next = (id + 1) & 0xff;
    return id;
  }

  /** A free identifier, waiting for one when all are taken. */
  acquire(): Promise<number> {
    const id = this.tryAcquire();
    if (id !== undefined) return Promise.resolve(id);
    if (this.waiters.length >= this.maxWaiting) {
      return Promise.reject(radiusError(RADIUS_ERROR.busy, `all 256 RADIUS identifiers in use and ${String(this.maxWaiting)} requests waiting`));
    }
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  release(id: number): void {
    if (this.inUse[id] !== 1) return;
    const waiter = this.waiters.shift();
    // Hand the identifier straight to a waiter: it stays in use.
    if (waiter !== undefined) {
      waiter.resolve(id);
      return;
    }
    this.inUse[id] = 0;
    this.used--;
  }

  /** Refuse every waiter (on close). */
  rejectWaiters(e: Error): void {
    for (const w of this.waiters.splice(0)) w.reject(e);
  }
}
