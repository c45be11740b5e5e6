import { PassThrough } from 'node:stream';
import type { Io } from '../../src/core/index.js';

/** An Io whose streams are buffers, for running commands in-process. */
export interface CapturedIo extends Io {
  out(): string;
  err(): string;
}

export function captureIo(options: { env?: Record<string, string>; cwd?: string; stdin?: string | Buffer; tty?: boolean } = {}): CapturedIo {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const outChunks: Buffer[] = [];
  const errChunks: Buffer[] = [];
  stdout.on('data', (c: Buffer) => outChunks.push(c));
  stderr.on('data', (c: Buffer) => errChunks.push(c));
  if (options.tty === true) {
    Object.assign(stdout, { isTTY: true, columns: 80 });
    Object.assign(stderr, { isTTY: true, columns: 80 });
  }
  const stdin = new PassThrough();
  stdin.end(options.stdin ?? '');
  return {
    stdout,
    stderr,
    stdin,
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    out: () => Buffer.concat(outChunks).toString('utf8'),
    err: () => Buffer.concat(errChunks).toString('utf8'),
  };
}
