// Writing classic pcap (pcap-savefile(5)), to a file or a stream, buffered.
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { EX_CANTCREAT, EX_DATAERR } from '../exit-codes.js';
import { MoatError, errorMessage } from '../errors.js';
import type { CapturePacket } from './capture-packet.js';

export interface PcapWriterOptions {
  /** Link type for the file header; by default the first packet's. */
  linktype?: number;
  snaplen?: number;
  /** Timestamp precision of the file: microseconds (0xa1b2c3d4) or nanoseconds (0xa1b23c4d). */
  precision?: 'us' | 'ns';
}

type Sink = { kind: 'fd'; fd: number } | { kind: 'stream'; stream: NodeJS.WritableStream };

const BUFFER = 256 * 1024;

export class PcapWriter {
  private readonly sink: Sink;
  private buf = Buffer.allocUnsafe(BUFFER);
  private used = 0;
  private linktype: number | undefined;
  private readonly snaplen: number;
  private readonly resolution: number;
  private headerWritten = false;
  private closed = false;
  private pending: Promise<void> | undefined;
  /** Packets written so far. */
  packets = 0;
  /** Bytes written so far, headers included. */
  bytes = 0;

  /** `target`: a path (created or truncated, never through a symlink) or a writable stream. */
  constructor(target: string | NodeJS.WritableStream, options: PcapWriterOptions = {}) {
    if (typeof target === 'string') {
      try {
        const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;
        this.sink = { kind: 'fd', fd: openSync(target, flags, 0o644) };
      } catch (e) {
        throw new MoatError('MOAT_PCAP_CREATE', `${target}: ${errorMessage(e)}`, { exitCode: EX_CANTCREAT, cause: e });
      }
    } else {
      this.sink = { kind: 'stream', stream: target };
    }
    this.linktype = options.linktype;
    this.snaplen = options.snaplen ?? 262144;
    this.resolution = options.precision === 'ns' ? 1e9 : 1e6;
  }

  /**
   * Queue one packet. Returns false when a stream sink wants the caller to
   * `await drain()` before writing more (backpressure).
   */
  write(pkt: CapturePacket): boolean {
    return this.writeRecord(pkt, pkt.data, 0);
  }

  /**
   * Queue one packet whose bytes are `buf[start .. start + caplen)`: what a
   * hot loop over a CaptureParser cursor uses to avoid a view per packet.
   */
  writeRecord(meta: Omit<CapturePacket, 'data' | 'interfaceId'>, buf: Uint8Array, start: number): boolean {
    if (this.closed) throw new MoatError('MOAT_PCAP_CLOSED', 'write after close');
    if (!this.headerWritten) this.writeHeader(meta.linktype);
    if (meta.linktype !== this.linktype) {
      throw new MoatError('MOAT_PCAP_LINKTYPE', `packet at byte offset ${String(meta.offset)} has link type ${String(meta.linktype)}, but the output file has ${String(this.linktype)}; classic pcap holds one link type`, { exitCode: EX_DATAERR });
    }
    const caplen = meta.caplen;
    const need = 16 + caplen;
    if (this.used + need > this.buf.length) {
      this.flush();
      if (need > this.buf.length) this.buf = Buffer.allocUnsafe(need);
    }
    let sec = meta.tsSec;
    let frac = meta.tsFrac;
    if (meta.tsResolution !== this.resolution) {
      frac = Math.floor((meta.tsFrac * this.resolution) / meta.tsResolution);
      if (frac >= this.resolution) {
        sec += 1;
        frac -= this.resolution;
      }
    }
    const b = this.buf;
    let o = this.used;
    b.writeUInt32LE(sec >>> 0, o);
    b.writeUInt32LE(frac >>> 0, o + 4);
    b.writeUInt32LE(caplen, o + 8);
    b.writeUInt32LE(meta.origlen, o + 12);
    o += 16;
    b.set(buf.subarray(start, start + caplen), o);
    this.used = o + caplen;
    this.packets++;
    return this.pending === undefined;
  }

  /** Resolves when a stream sink can take more. */
  async drain(): Promise<void> {
    if (this.pending !== undefined) await this.pending;
  }

  /** Flush, write the header if no packet came, and close a file sink. Does not end a stream sink. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (!this.headerWritten) this.writeHeader(this.linktype ?? 1);
    this.flush();
    this.closed = true;
    await this.drain();
    if (this.sink.kind === 'fd') closeSync(this.sink.fd);
  }

  private writeHeader(linktype: number): void {
    this.linktype ??= linktype;
    const h = this.buf;
    h.writeUInt32LE(this.resolution === 1e9 ? 0xa1b23c4d : 0xa1b2c3d4, 0);
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeInt32LE(0, 8);
    h.writeUInt32LE(0, 12);
    h.writeUInt32LE(this.snaplen, 16);
    h.writeUInt32LE(this.linktype, 20);
    this.used = 24;
    this.headerWritten = true;
  }

  private flush(): void {
    if (this.used === 0) return;
    const out = this.buf.subarray(0, this.used);
    this.bytes += out.length;
    if (this.sink.kind === 'fd') {
      let off = 0;
      while (off < out.length) off += writeSync(this.sink.fd, out, off, out.length - off);
    } else {
      const copy = Buffer.from(out);
      const stream = this.sink.stream;
      if (!stream.write(copy) && this.pending === undefined) {
        this.pending = new Promise<void>((resolve) => {
          stream.once('drain', () => {
            this.pending = undefined;
            resolve();
          });
        });
      }
    }
    this.used = 0;
  }
}
