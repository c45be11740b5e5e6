// RADIUS Identifiers for one (socket, server) pair: 256 of them (RFC 2865 §3),
// handed out round-robin so that a freed identifier is reused as late as
// possible (a late reply to the old request then fails its authenticator
// check rather than matching). Waiting for one is the socket pool's business.

export class IdAllocator {
  private readonly inUse = new Uint8Array(256);
  private used = 0;
  private next: number;

  constructor(start = Math.floor(Math.random() * 256)) {
    this.next = start & 0xff;
  }

  get outstanding(): number {
    return this.used;
  }

  /** A free identifier, or undefined when all 256 are taken. */
  tryAcquire(): number | undefined {
    if (this.used >= 256) return undefined;
    while (this.inUse[this.next] === 1) this.next = (this.next + 1) & 0xff;
    const id = this.next;
    this.inUse[id] = 1;
    this.used++;
    this.next = (id + 1) & 0xff;
    return id;
  }

  release(id: number): void {
    if (this.inUse[id] !== 1) return;
    this.inUse[id] = 0;
    this.used--;
  }
}
