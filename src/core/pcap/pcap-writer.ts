// Writing classic pcap (pcap-savefile(5)), to a file or a stream, buffered.
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { MoatError, errorMessage } from '../errors.js';
import type { CapturePacket } from './capture-packet.js';

export interface PcapWriterOptions {
  /** Link type for the file header; by default the first packet's. */
  linktype?: number;
  snaplen?: number;
  /** Bits above the link type in the header's link-type field (FCS flags, pcap-linktype(7)), as read from an input file. */
  linktypeExt?: number;
  /** Timestamp precision of the file: microseconds (0xa1b2c3d4) or nanoseconds (0xa1b23c4d). */
  precision?: 'us' | 'ns';
}

type Sink = { kind: 'fd'; fd: number } | { kind: 'stream'; stream: NodeJS.WritableStream };

// Large enough that a write(2) per buffer is noise next to the per-packet work.
const BUFFER = 1024 * 1024;

export class PcapWriter {
  private readonly sink: Sink;
  private buf = Buffer.allocUnsafe(BUFFER);
  private used = 0;
  private linktype: number | undefined;
  private readonly snaplen: number;
  private readonly linktypeExt: number;
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
        throw new MoatError('MOAT_PCAP_CREATE', `${target}: ${errorMessage(e)}`, { cause: e });
      }
    } else {
      this.sink = { kind: 'stream', stream: target };
    }
    this.linktype = options.linktype;
    this.snaplen = options.snaplen ?? 262144;
    this.linktypeExt = (options.linktypeExt ?? 0) & 0xfc000000;
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
    return this.writeAt(meta.linktype, meta.tsSec, meta.tsFrac, meta.tsResolution, meta.caplen, meta.origlen, buf, start, meta.offset);
  }

  /**
   * writeRecord with the fields as arguments: no object per packet, for the
   * hottest loops (`moat bpf filter`). `offset` is only for the error message.
   */
  writeAt(linktype: number, tsSec: number, tsFrac: number, tsResolution: number, caplen: number, origlen: number, buf: Uint8Array, start: number, offset: number): boolean {
    if (this.closed) throw new MoatError('MOAT_PCAP_CLOSED', 'write after close');
    if (!this.headerWritten) this.writeHeader(linktype);
    if (linktype !== this.linktype) {
      throw new MoatError('MOAT_PCAP_LINKTYPE', `packet at byte offset ${String(offset)} has link type ${String(linktype)}, but the output file has ${String(this.linktype)}; classic pcap holds one link type`);
    }
    const need = 16 + caplen;
    if (this.used + need > this.buf.length) {
      this.flush();
      if (need > this.buf.length) this.buf = Buffer.allocUnsafe(need);
    }
    let sec = tsSec;
    let frac = tsFrac;
    if (tsResolution !== this.resolution) {
      frac = Math.floor((tsFrac * this.resolution) / tsResolution);
      if (frac >= this.resolution) {
        sec += 1;
        frac -= this.resolution;
      }
    }
    const b = this.buf;
    const o = this.used;
    // The record header, little-endian (pcap-savefile(5)), stored bytewise: no call per field.
    b[o] = sec;
    b[o + 1] = sec >>> 8;
    b[o + 2] = sec >>> 16;
    b[o + 3] = sec >>> 24;
    b[o + 4] = frac;
    b[o + 5] = frac >>> 8;
    b[o + 6] = frac >>> 16;
    b[o + 7] = frac >>> 24;
    b[o + 8] = caplen;
    b[o + 9] = caplen >>> 8;
    b[o + 10] = caplen >>> 16;
    b[o + 11] = caplen >>> 24;
    b[o + 12] = origlen;
    b[o + 13] = origlen >>> 8;
    b[o + 14] = origlen >>> 16;
    b[o + 15] = origlen >>> 24;
    b.set(buf.subarray(start, start + caplen), o + 16);
    this.used = o + need;
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
    h.writeUInt32LE(((this.linktype & 0x03ffffff) | this.linktypeExt) >>> 0, 20);
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
