import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../core/logger.js';
import type { Admission, ConnectionLimiter } from './limits.js';
import { TOO_LONG, type Responder, type Response } from './responder.js';
import { neutralise } from './sanitize.js';

export interface ConnectionOptions {
  readTimeoutMs: number;
  writeTimeoutMs: number;
  maxLine: number;
}

export interface ServerStats {
  open: number;
  served: number;
  refused: number;
  timeouts: number;
}

/**
 * The per-connection state machine: admit, read one line within the read
 * deadline and the line limit, answer, write within the write deadline,
 * close, and log one line. Every error is caught here: a client can end its
 * own connection, never the server.
 */
export class ConnectionHandler {
  readonly sockets = new Set<Socket>();
  served = 0;
  timeouts = 0;
  private refusedSince: Partial<Record<Admission, number>> = {};
  private refusedTotal = 0;
  private readonly refusalReport: NodeJS.Timeout;

  constructor(
    private readonly responder: Responder,
    private readonly limiter: ConnectionLimiter,
    private readonly logger: Logger,
    private readonly options: ConnectionOptions,
  ) {
    // Refusals under a flood are counted and logged every 10 s, never one line
    // each: the log must not become the attacker's amplifier.
    this.refusalReport = setInterval(() => {
      this.reportRefusals();
      this.limiter.sweep();
    }, 10000);
    this.refusalReport.unref();
  }

  stats(): ServerStats {
    return { open: this.sockets.size, served: this.served, refused: this.refusedTotal, timeouts: this.timeouts };
  }

  stop(): void {
    clearInterval(this.refusalReport);
    this.reportRefusals();
  }

  readonly onConnection = (socket: Socket): void => {
    socket.on('error', noop);
    const peer = socket.remoteAddress ?? 'unknown';
    const admission = this.limiter.admit(peer);
    if (admission !== 'ok') {
      this.refusedSince[admission] = (this.refusedSince[admission] ?? 0) + 1;
      this.refusedTotal++;
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    const started = performance.now();
    const chunks: Buffer[] = [];
    let received = 0;
    let query: string | undefined;
    let outcome = 'closed';
    let answering = false;

    const readTimer = setTimeout(() => {
      // The whole line must arrive within the deadline, however slowly it
      // trickles in: that is what stops a slowloris client.
      outcome = 'read-timeout';
      this.timeouts++;
      socket.destroy();
    }, this.options.readTimeoutMs);
    let writeTimer: NodeJS.Timeout | undefined;

    const respond = (line: string | undefined, tooLong: boolean): void => {
      answering = true;
      clearTimeout(readTimer);
      socket.removeListener('data', onData);
      // Keep reading and discarding: closing with unread data would send a RST
      // that can destroy the answer before the client reads it.
      socket.on('data', noop);
      writeTimer = setTimeout(() => {
        outcome = `${outcome} write-timeout`;
        this.timeouts++;
        socket.destroy();
      }, this.options.writeTimeoutMs);
      if (tooLong) {
        outcome = 'too-long';
        socket.end(TOO_LONG);
        return;
      }
      query = line ?? '';
      let r: Response | Promise<Response>;
      try {
        r = this.responder.answer(query);
      } catch (e) {
        this.logger.error('answer failed', { peer, error: e instanceof Error ? e.message : String(e) });
        outcome = 'error';
        socket.destroy();
        return;
      }
      if (r instanceof Promise) {
        r.then(send, () => {
          outcome = 'error';
          socket.destroy();
        });
      } else {
        send(r);
      }
    };
    const send = (r: Response): void => {
      outcome = r.outcome;
      for (const f of r.refused) this.logger.warning('file refused', { peer, file: f.file, why: f.why });
      if (!socket.destroyed) socket.end(r.text);
    };

    const onData = (chunk: Buffer): void => {
      const nl = chunk.indexOf(10);
      if (nl !== -1) {
        if (received + nl + 1 > this.options.maxLine) {
          respond(undefined, true);
          return;
        }
        chunks.push(chunk.subarray(0, nl));
        // latin1 keeps every byte as one character, so the parser sees (and refuses) every odd byte.
        respond(Buffer.concat(chunks).toString('latin1'), false);
        return;
      }
      received += chunk.length;
      if (received >= this.options.maxLine) {
        respond(undefined, true);
        return;
      }
      chunks.push(chunk);
    };
    socket.on('data', onData);
    socket.on('end', () => {
      // The client finished sending without a line end: answer what it sent, if anything.
      if (answering) return;
      if (received === 0) {
        outcome = 'empty';
        socket.destroy();
        return;
      }
      respond(Buffer.concat(chunks).toString('latin1'), false);
    });
    socket.on('close', () => {
      clearTimeout(readTimer);
      if (writeTimer !== undefined) clearTimeout(writeTimer);
      this.sockets.delete(socket);
      this.limiter.release(peer);
      if (answering) this.served++;
      const ms = Math.round((performance.now() - started) * 100) / 100;
      this.logger.info('query', {
        peer,
        query: query === undefined ? '-' : neutralise(query.replace(/\r$/, '').slice(0, 80)),
        outcome,
        bytes: socket.bytesWritten,
        ms,
      });
    });
  };

  private reportRefusals(): void {
    const entries = Object.entries(this.refusedSince);
    if (entries.length === 0) return;
    this.refusedSince = {};
    this.logger.warning('connections refused', Object.fromEntries(entries));
  }
}

function noop(): void {
  // Errors on a client socket end that connection only; 'close' follows and logs.
}
