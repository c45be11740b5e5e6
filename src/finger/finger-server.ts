import type { Socket } from 'node:net';
import type { Logger } from '../core/logger.js';
import type { Admission, ConnectionLimiter } from './limits.js';
import { TOO_LONG_BYTES, type Responder, type Response } from './responder.js';
import { neutralise } from './sanitize.js';

export interface ConnectionOptions {
  readTimeoutMs: number;
  writeTimeoutMs: number;
  maxLine: number;
  /** Log one line per query. Off when nothing would be written anywhere: then no record is even built. */
  logQueries?: boolean;
}

export interface ServerStats {
  open: number;
  served: number;
  refused: number;
  timeouts: number;
}

/** Deadlines are checked by one sweep this often, not by a timer per socket. */
export const SWEEP_MS = 250;

const enum Phase {
  Reading,
  Answering,
}

/** Per-connection state, kept on the socket: no closures per connection. */
interface Conn {
  handler: ConnectionHandler;
  /** The limiter's key for the peer, computed once. */
  peer: string;
  phase: Phase;
  /** When the read (then the write) deadline passes, ms since the epoch (Date.now). */
  deadline: number;
  /** Bytes of the request seen so far, and the pieces of a line split across reads. */
  received: number;
  chunks: Buffer[] | undefined;
  query: string | undefined;
  outcome: string;
  started: number;
}

const STATE = Symbol('moat-finger-conn');
type Tracked = Socket & { [STATE]?: Conn | undefined };

/**
 * The per-connection state machine: admit, read one line within the read
 * deadline and the line limit, answer, write within the write deadline,
 * close, and log one line. Every error is caught here: a client can end its
 * own connection, never the server.
 *
 * On the hot path a finger server does little, so little is done: the
 * listeners are shared functions that find their state on the socket, the
 * deadlines of all sockets are enforced by one coarse sweep, and nothing is
 * formatted for a log that writes nowhere.
 */
export class ConnectionHandler {
  readonly sockets = new Set<Socket>();
  served = 0;
  timeouts = 0;
  private refusedSince: Partial<Record<Admission, number>> = {};
  private refusedTotal = 0;
  private readonly refusalReport: NodeJS.Timeout;
  private readonly sweeper: NodeJS.Timeout;
  private readonly logQueries: boolean;

  constructor(
    private readonly responder: Responder,
    private readonly limiter: ConnectionLimiter,
    private readonly logger: Logger,
    private readonly options: ConnectionOptions,
  ) {
    this.logQueries = options.logQueries ?? true;
    // Refusals under a flood are counted and logged every 10 s, never one line
    // each: the log must not become the attacker's amplifier.
    this.refusalReport = setInterval(() => {
      this.reportRefusals();
      this.limiter.sweep();
    }, 10000);
    this.refusalReport.unref();
    this.sweeper = setInterval(() => {
      this.sweep(Date.now());
    }, SWEEP_MS);
    this.sweeper.unref();
  }

  /** Bytes in a request line, terminator included. */
  get maxLine(): number {
    return this.options.maxLine;
  }

  stats(): ServerStats {
    return { open: this.sockets.size, served: this.served, refused: this.refusedTotal, timeouts: this.timeouts };
  }

  stop(): void {
    clearInterval(this.refusalReport);
    clearInterval(this.sweeper);
    this.reportRefusals();
  }

  /**
   * End every connection past its deadline. The whole line must arrive within
   * the read deadline, however slowly it trickles in (that is what stops a
   * slowloris client), and the whole answer must leave within the write
   * deadline. A deadline is met at most SWEEP_MS late.
   */
  sweep(now: number): void {
    for (const s of this.sockets) {
      const c = (s as Tracked)[STATE];
      if (c === undefined || now < c.deadline) continue;
      c.outcome = c.phase === Phase.Reading ? 'read-timeout' : `${c.outcome} write-timeout`;
      this.timeouts++;
      s.destroy();
    }
  }

  readonly onConnection = (socket: Socket): void => {
    socket.on('error', noop);
    const peer = this.limiter.keyOf(socket.remoteAddress ?? 'unknown');
    const admission = this.limiter.admitKey(peer);
    if (admission !== 'ok') {
      this.refusedSince[admission] = (this.refusedSince[admission] ?? 0) + 1;
      this.refusedTotal++;
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    const now = Date.now();
    (socket as Tracked)[STATE] = {
      handler: this,
      peer,
      phase: Phase.Reading,
      deadline: now + this.options.readTimeoutMs,
      received: 0,
      chunks: undefined,
      query: undefined,
      outcome: 'closed',
      started: this.logQueries ? performance.now() : 0,
    };
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onClose);
  };

  /** A line (or the end of the request) has arrived: answer it. */
  respond(socket: Socket, c: Conn, line: string | undefined): void {
    c.phase = Phase.Answering;
    c.deadline = Date.now() + this.options.writeTimeoutMs;
    c.chunks = undefined;
    // onData reads on and discards from now on: closing with unread data
    // would send a RST that can destroy the answer before the client reads it.
    if (line === undefined) {
      c.outcome = 'too-long';
      socket.end(TOO_LONG_BYTES);
      return;
    }
    c.query = line;
    let r: Response | Promise<Response>;
    try {
      r = this.responder.answer(line);
    } catch (e) {
      this.logger.error('answer failed', { peer: socket.remoteAddress ?? '-', error: e instanceof Error ? e.message : String(e) });
      c.outcome = 'error';
      socket.destroy();
      return;
    }
    if (r instanceof Promise) {
      r.then(
        (x) => {
          this.send(socket, c, x);
        },
        () => {
          c.outcome = 'error';
          socket.destroy();
        },
      );
    } else {
      this.send(socket, c, r);
    }
  }

  private send(socket: Socket, c: Conn, r: Response): void {
    c.outcome = r.outcome;
    for (const f of r.refused) this.logger.warning('file refused', { peer: socket.remoteAddress ?? '-', file: f.file, why: f.why });
    if (!socket.destroyed) socket.end(r.bytes ?? r.text);
  }

  closed(socket: Socket, c: Conn): void {
    this.sockets.delete(socket);
    this.limiter.releaseKey(c.peer);
    if (c.phase === Phase.Answering) this.served++;
    if (!this.logQueries) return;
    const ms = Math.round((performance.now() - c.started) * 100) / 100;
    this.logger.info('query', {
      peer: socket.remoteAddress ?? '-',
      query: c.query === undefined ? '-' : neutralise(c.query.replace(/\r$/, '').slice(0, 80)),
      outcome: c.outcome,
      bytes: socket.bytesWritten,
      ms,
    });
  }

  private reportRefusals(): void {
    const entries = Object.entries(this.refusedSince);
    if (entries.length === 0) return;
    this.refusedSince = {};
    this.logger.warning('connections refused', Object.fromEntries(entries));
  }
}

// The listeners, shared by every connection; `this` is the socket.

function onData(this: Tracked, chunk: Buffer): void {
  const c = this[STATE];
  if (c?.phase !== Phase.Reading) return;
  const max = c.handler.maxLine;
  const nl = chunk.indexOf(10);
  if (nl !== -1) {
    if (c.received + nl + 1 > max) {
      c.handler.respond(this, c, undefined);
      return;
    }
    // latin1 keeps every byte as one character, so the parser sees (and refuses) every odd byte.
    const line = c.chunks === undefined ? chunk.toString('latin1', 0, nl) : Buffer.concat([...c.chunks, chunk.subarray(0, nl)]).toString('latin1');
    c.handler.respond(this, c, line);
    return;
  }
  c.received += chunk.length;
  if (c.received >= max) {
    c.handler.respond(this, c, undefined);
    return;
  }
  (c.chunks ??= []).push(chunk);
}

function onEnd(this: Tracked): void {
  // The client finished sending without a line end: answer what it sent, if anything.
  const c = this[STATE];
  if (c?.phase !== Phase.Reading) return;
  if (c.received === 0) {
    c.outcome = 'empty';
    this.destroy();
    return;
  }
  c.handler.respond(this, c, Buffer.concat(c.chunks ?? []).toString('latin1'));
}

function onClose(this: Tracked): void {
  const c = this[STATE];
  if (c === undefined) return;
  this[STATE] = undefined;
  c.handler.closed(this, c);
}

function noop(): void {
  // Errors on a client socket end that connection only; 'close' follows and logs.
}
