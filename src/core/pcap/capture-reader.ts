// Reading whole captures: from memory, a file or a stream, in constant memory.
import { open } from 'node:fs/promises';
import { constants } from 'node:fs';
import { MoatError, errorMessage } from '../errors.js';
import { CaptureParser } from './capture-parser.js';
import type { CapturePacket } from './capture-packet.js';

const CHUNK = 4 * 1024 * 1024;
/**
 * Room left before each read chunk for the unparsed tail of the previous one
 * (at most one record; a longer tail, possible only in pcapng, is joined by
 * copying instead).
 */
const HEADROOM = 256 * 1024 + 64;

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
    const fh = await open(source, constants.O_RDONLY).catch((e: unknown) => {
      throw new MoatError('MOAT_PCAP_OPEN', `${source}: ${errorMessage(e)}`, { cause: e });
    });
    // Read ahead: the next chunk is read (on libuv's thread pool) while the
    // caller filters this one, so reading and parsing overlap instead of taking
    // turns. Three buffers in turn, reused (no page faults or GC for fresh
    // megabytes): the one being read, the one being parsed, and the one before,
    // whose packets stay valid until the caller has moved a whole chunk on.
    // Not zero-filled: only bytes the read wrote, and the copied tail, are ever
    // handed out. Plain Uint8Arrays, not Buffers: packet data keeps its type, and
    // its slice() keeps copying.
    const fresh = (): Uint8Array => {
      const b = Buffer.allocUnsafeSlow(HEADROOM + CHUNK);
      return new Uint8Array(b.buffer, b.byteOffset, b.length);
    };
    const ring = [fresh(), fresh(), fresh()];
    let turn = 0;
    const readInto = (): { buf: Uint8Array; done: Promise<number> } => {
      const buf = ring[turn++ % ring.length] ?? fresh();
      return { buf, done: fh.read(buf, HEADROOM, CHUNK, null).then((r) => r.bytesRead) };
    };
    let ahead: { buf: Uint8Array; done: Promise<number> } | undefined = readInto();
    try {
      for (;;) {
        const { buf, done } = ahead;
        ahead = undefined;
        const bytesRead = await done;
        if (bytesRead === 0) break;
        ahead = readInto();
        // A fresh buffer per read (packets handed out still point into the last one);
        // the unparsed tail of the last one goes right before the new bytes.
        const rest = parser.remainder();
        if (rest.length <= HEADROOM) {
          buf.set(rest, HEADROOM - rest.length);
          parser.refill(buf.subarray(HEADROOM - rest.length, HEADROOM + bytesRead));
        } else {
          parser.push(buf.subarray(HEADROOM, HEADROOM + bytesRead));
        }
        yield parser;
      }
    } finally {
      // Never close the file under a read still in flight.
      if (ahead !== undefined) await ahead.done.catch(() => 0);
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
