import type { Socket as UdpSocket } from 'node:dgram';
import type { Socket } from 'node:net';
import { MoatError } from './errors.js';
import { lazyDgram, lazyNet } from './lazy-builtin.js';

/** Where syslog goes: `udp://host:port`, `tcp://host:port` or `unix:///path`. */
export type SyslogTarget =
  | { kind: 'udp'; host: string; port: number }
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'unix'; path: string };

/** Parse a `--log-syslog` address. The default port is 514 (RFC 5426 §3.3, RFC 6587 §3). */
export function parseSyslogTarget(url: string): SyslogTarget {
  const bad = (why: string) => new MoatError('MOAT_SYSLOG_ADDRESS', `bad syslog address '${url}': ${why}`);
  const m = /^(udp|tcp|unix):\/\/(.*)$/.exec(url);
  if (!m) throw bad('want udp://host[:port], tcp://host[:port] or unix:///path');
  const kind = m[1];
  const rest = m[2] ?? '';
  if (kind === 'unix') {
    if (!rest.startsWith('/')) throw bad('a unix socket path must be absolute');
    return { kind: 'unix', path: rest };
  }
  const hp = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]/]+))(?::(\d{1,5}))?$/.exec(rest);
  if (!hp) throw bad('want host[:port], with IPv6 in brackets');
  const host = hp[1] ?? hp[2] ?? '';
  const port = hp[3] === undefined ? 514 : Number(hp[3]);
  if (port < 1 || port > 65535) throw bad('port out of range');
  return { kind: kind === 'udp' ? 'udp' : 'tcp', host, port };
}

/**
 * Sends formatted messages. A stream transport frames each message with
 * RFC 6587 §3.4.1 octet counting (`LEN SP MSG`), so messages may contain
 * newlines. The queue is bounded: while disconnected, at most `maxQueue`
 * messages wait and the oldest are dropped (and counted), so a dead log
 * server can never grow our memory.
 */
export class SyslogTransport {
  readonly target: SyslogTarget;
  dropped = 0;
  private udp: UdpSocket | undefined;
  private stream: Socket | undefined;
  private connected = false;
  private connecting = false;
  private closed = false;
  private readonly queue: Buffer[] = [];
  private readonly maxQueue: number;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly pendingWrites = new Set<Promise<void>>();

  constructor(target: SyslogTarget, options: { maxQueue?: number } = {}) {
    this.target = target;
    this.maxQueue = options.maxQueue ?? 1000;
  }

  send(line: string): void {
    if (this.closed) return;
    const payload = Buffer.from(line, 'utf8');
    if (this.target.kind === 'udp') {
      // RFC 5426 §3.2: one message per datagram; keep it under a safe size.
      const datagram = payload.subarray(0, 8192);
      this.udp ??= this.openUdp();
      const target = this.target;
      const p = new Promise<void>((resolve) => {
        this.udp?.send(datagram, target.port, target.host, () => {
          resolve();
        });
      });
      this.track(p);
      return;
    }
    const framed = Buffer.concat([Buffer.from(`${String(payload.length)} `), payload]);
    if (this.connected && this.stream !== undefined) {
      this.writeStream(this.stream, framed);
      return;
    }
    this.enqueue(framed);
    this.connectStream();
  }

  /** Wait for what was handed over to be written, then close. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.udp?.close();
    this.udp = undefined;
    const s = this.stream;
    this.stream = undefined;
    if (s !== undefined) {
      await new Promise<void>((resolve) => {
        s.end(() => {
          resolve();
        });
        setTimeout(resolve, 1000).unref();
      });
      s.destroy();
    }
  }

  /** Resolve once every message sent so far has left (or been given up on). */
  async flush(timeoutMs = 2000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && (this.queue.length > 0 || this.pendingWrites.size > 0)) {
      if (this.pendingWrites.size > 0) {
        await Promise.race([Promise.all(this.pendingWrites), sleep(50)]);
      } else {
        await sleep(20);
      }
    }
  }

  private track(p: Promise<void>): void {
    this.pendingWrites.add(p);
    void p.then(() => this.pendingWrites.delete(p));
  }

  private openUdp(): UdpSocket {
    const t = this.target;
    const family = t.kind === 'udp' && t.host.includes(':') ? 'udp6' : 'udp4';
    const sock = lazyDgram().createSocket(family);
    sock.on('error', () => {
      this.dropped++;
    });
    sock.unref();
    return sock;
  }

  private enqueue(framed: Buffer): void {
    this.queue.push(framed);
    while (this.queue.length > this.maxQueue) {
      this.queue.shift();
      this.dropped++;
    }
  }

  private writeStream(s: Socket, framed: Buffer): void {
    const p = new Promise<void>((resolve) => {
      s.write(framed, () => {
        resolve();
      });
    });
    this.track(p);
  }

  private connectStream(): void {
    if (this.connecting || this.connected || this.closed || this.retryTimer !== undefined) return;
    this.connecting = true;
    const t = this.target;
    const net = lazyNet();
    const s = t.kind === 'unix' ? net.connect({ path: t.path }) : t.kind === 'tcp' ? net.connect({ host: t.host, port: t.port }) : undefined;
    if (s === undefined) return;
    s.unref();
    s.setNoDelay(true);
    s.on('connect', () => {
      this.connecting = false;
      this.connected = true;
      this.stream = s;
      for (const framed of this.queue.splice(0)) this.writeStream(s, framed);
    });
    s.on('error', () => {
      // Errors are followed by 'close', where the reconnect is scheduled.
    });
    s.on('close', () => {
      this.connecting = false;
      this.connected = false;
      if (this.stream === s) this.stream = undefined;
      if (this.closed) return;
      // Reconnect with a fixed backoff; messages wait in the bounded queue.
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        if (this.queue.length > 0) this.connectStream();
      }, 1000);
      this.retryTimer.unref();
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
