// Reading whole captures: from memory, a file or a stream, in constant memory.
import { open } from 'node:fs/promises';
import { constants } from 'node:fs';
import { EX_NOINPUT } from '../exit-codes.js';
import { MoatError, errorMessage } from '../errors.js';
import { CaptureParser } from './capture-parser.js';
import type { CapturePacket } from './capture-packet.js';

const CHUNK = 4 * 1024 * 1024;

/** Every packet of a capture held in memory. Throws at the first damage, after the good packets before it. */
export function* parseCaptureBuffer(buf: Uint8Array): Generator<CapturePacket> {
  const parser = new CaptureParser();
  parser.push(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
  yield* parser.packets();
  parser.finish();
}

/**
 * The parser after each chunk of a capture file (path) or stream (e.g.
 * stdin): drain `parser.packets()` before asking for the next. For callers
 * that want whole chunks without an await per packet; ends by checking the
 * input did not stop part way through a record.
 */
export async function* captureChunks(source: string | NodeJS.ReadableStream): AsyncGenerator<CaptureParser> {
  const parser = new CaptureParser();
  if (typeof source === 'string') {
    let fh;
    try {
      fh = await open(source, constants.O_RDONLY);
    } catch (e) {
      throw new MoatError('MOAT_PCAP_OPEN', `${source}: ${errorMessage(e)}`, { exitCode: EX_NOINPUT, cause: e });
    }
    try {
      for (;;) {
        // A fresh buffer per read (packets handed out still point into the last one),
        // starting with the unparsed tail of the last one, so nothing is copied twice.
        const rest = parser.remainder();
        const chunk = new Uint8Array(rest.length + CHUNK);
        chunk.set(rest, 0);
        const { bytesRead } = await fh.read(chunk, rest.length, CHUNK, null);
        if (bytesRead === 0) break;
        parser.refill(chunk.subarray(0, rest.length + bytesRead));
        yield parser;
      }
    } finally {
      await fh.close();
    }
  } else {
    for await (const chunk of source) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
      parser.push(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      yield parser;
    }
  }
  parser.finish();
}

/**
 * Every packet of a capture file (path) or stream (e.g. stdin), pcap or
 * pcapng, detected from the magic. Memory stays at one read chunk plus one
 * record. Packet data is only valid until the next packet is asked for.
 */
export async function* readCapture(source: string | NodeJS.ReadableStream): AsyncGenerator<CapturePacket> {
  for await (const parser of captureChunks(source)) yield* parser.packets();
}
