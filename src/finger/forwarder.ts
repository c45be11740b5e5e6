import { connect } from 'node:net';
import { sanitizeText } from './sanitize.js';

export interface ForwardOptions {
  /** Whole exchange, connect to close, ms. */
  timeoutMs: number;
  /** Most bytes relayed back; the rest is cut off. */
  maxBytes: number;
  utf8: boolean;
  /** RFC 1288 §2.1: port 79. Only tests change it. */
  port?: number;
}

export type ForwardResult = { ok: true; text: string; truncated: boolean } | { ok: false; why: string };

/**
 * One hop of {Q2} forwarding (RFC 1288 §2.5.3): ask `host` for `user` and relay
 * the answer, sanitised like a local file, because the remote server is as
 * untrusted as any user's .plan.
 */
export function forwardQuery(host: string, user: string, long: boolean, options: ForwardOptions): Promise<ForwardResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    let truncated = false;
    let settled = false;
    const sock = connect({ host: host.replace(/^\[|\]$/g, ''), port: options.port ?? 79 });
    const finish = (r: ForwardResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => {
      finish({ ok: false, why: 'timeout' });
    }, options.timeoutMs);
    sock.on('connect', () => {
      sock.write(`${long ? '/W ' : ''}${user}\r\n`);
    });
    sock.on('data', (c: Buffer) => {
      const room = options.maxBytes - bytes;
      if (c.length >= room) {
        chunks.push(c.subarray(0, room));
        bytes += room;
        truncated = true;
        finish({ ok: true, text: sanitizeText(Buffer.concat(chunks), options.utf8), truncated });
        return;
      }
      chunks.push(c);
      bytes += c.length;
    });
    sock.on('end', () => {
      finish({ ok: true, text: bytes === 0 ? '' : sanitizeText(Buffer.concat(chunks), options.utf8), truncated });
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      finish({ ok: false, why: e.code ?? 'error' });
    });
  });
}
