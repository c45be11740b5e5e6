// A push parser for classic pcap and pcapng. Feed it chunks; it yields every
// complete packet and keeps at most one partial record between chunks, so a
// capture of any size streams in constant memory. Formats:
//   classic pcap: pcap-savefile(5), draft-ietf-opsawg-pcap
//   pcapng: draft-ietf-opsawg-pcapng (SHB, IDB, EPB, SPB, obsolete PB)
import { endianness } from 'node:os';
import { MAX_RECORD_BYTES, corruptError, truncatedError, type CapturePacket } from './capture-packet.js';

const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BOM = 0x1a2b3c4d;

// libpcap's max_snaplen_for_dlt(): most link types cap at 262144 bytes.
const MAX_SNAPLEN_DEFAULT = 262144;
const MAX_SNAPLEN_BY_LINKTYPE = new Map<number, number>([
  [231, MAX_RECORD_BYTES], // DBUS: 128 MiB in libpcap; our record bound is lower
  [249, 1024 * 1024], // USBPCAP
  [279, 8 * 1024 * 1024], // EBHSCR
]);

function maxSnaplen(linktype: number): number {
  return MAX_SNAPLEN_BY_LINKTYPE.get(linktype) ?? MAX_SNAPLEN_DEFAULT;
}

function u16(b: Uint8Array, i: number, le: boolean): number {
  return le ? (b[i] ?? 0) | ((b[i + 1] ?? 0) << 8) : ((b[i] ?? 0) << 8) | (b[i + 1] ?? 0);
}

/**
 * libpcap's pcap_adjust_snapshot (savefile.c): the header's snapshot length
 * unless it is 0 or above INT_MAX. Records are still cut at maxSnaplen.
 */
function adjustSnapshot(linktype: number, snaplen: number): number {
  return snaplen === 0 || snaplen > 0x7fffffff ? maxSnaplen(linktype) : snaplen;
}

function u32(b: Uint8Array, i: number, le: boolean): number {
  const x = le
    ? (b[i] ?? 0) | ((b[i + 1] ?? 0) << 8) | ((b[i + 2] ?? 0) << 16) | ((b[i + 3] ?? 0) << 24)
    : ((b[i] ?? 0) << 24) | ((b[i + 1] ?? 0) << 16) | ((b[i + 2] ?? 0) << 8) | (b[i + 3] ?? 0);
  return x >>> 0;
}

interface Interface {
  linktype: number;
  snaplen: number;
  /** libpcap's pcap_snapshot() for it: see `header`. */
  snapshot: number;
  tsResolution: number;
  tsOffset: number;
}

type Format = 'unknown' | 'pcap' | 'pcapng';

/** The packet `step()` last reached: CapturePacket's fields, with the data as a range of `buffer()`. */
export interface CaptureCursor extends Omit<CapturePacket, 'data' | 'swapped'> {
  /** Index in `buffer()` of the first captured byte. */
  start: number;
  /** Always known for a cursor: see CapturePacket.swapped. */
  swapped: boolean;
}

const HOST_LE = endianness() === 'LE';

const EMPTY = new Uint8Array(0);

export class CaptureParser {
  private buf: Uint8Array = EMPTY;
  private pos = 0;
  /** File offset of buf[0]. */
  private base = 0;
  private format: Format = 'unknown';
  private le = true;
  // classic pcap
  private linktype = 0;
  /** The pcap header's link-type bits above the link type (FCS present and its length, pcap-linktype(7)). */
  private linktypeExt = 0;
  private snaplen = 0;
  private snapshot = 0;
  private tsResolution = 1e6;
  private recordHeader = 16;
  /** maxSnaplen(linktype), looked up once per file rather than per record. */
  private maxCaplen = MAX_SNAPLEN_DEFAULT;
  // pcapng
  private interfaces: Interface[] = [];
  private sawShb = false;
  /** The packet the last successful `step()` reached. */
  readonly cur: CaptureCursor = { linktype: 0, interfaceId: 0, tsSec: 0, tsFrac: 0, tsResolution: 1e6, caplen: 0, origlen: 0, start: 0, offset: 0, swapped: false };

  /**
   * The capture's link type and snapshot length as libpcap reports them
   * (pcap_datalink, pcap_snapshot): the pcap file header's, or the first
   * interface's of a pcapng section; undefined until that header is read.
   * What `tcpdump -r -w` copies into the file it writes, with `linktypeExt`,
   * the pcap header's bits above the link type (libpcap keeps them as
   * linktype_ext and writes them back, sf-pcap.c; 0 for pcapng).
   */
  get header(): { linktype: number; snaplen: number; linktypeExt: number } | undefined {
    if (this.format === 'pcap') return { linktype: this.linktype, snaplen: this.snapshot, linktypeExt: this.linktypeExt };
    const first = this.interfaces[0];
    return first === undefined ? undefined : { linktype: first.linktype, snaplen: first.snapshot, linktypeExt: 0 };
  }

  /** Add bytes. Bytes already handed out as packet data stay valid. */
  push(chunk: Uint8Array): void {
    if (this.pos >= this.buf.length) {
      this.base += this.buf.length;
      this.buf = chunk;
    } else {
      const rest = this.buf.subarray(this.pos);
      const joined = new Uint8Array(rest.length + chunk.length);
      joined.set(rest, 0);
      joined.set(chunk, rest.length);
      this.base += this.pos;
      this.buf = joined;
    }
    this.pos = 0;
  }

  /** The bytes not yet parsed (part of one record at most, after `packets()` is drained). */
  remainder(): Uint8Array {
    return this.buf.subarray(this.pos);
  }

  /**
   * Like push(), for a caller that has already copied `remainder()` to the
   * start of `next`: saves copying the new bytes a second time.
   */
  refill(next: Uint8Array): void {
    this.base += this.pos;
    this.buf = next;
    this.pos = 0;
  }

  /** Every complete packet now buffered. Throws at the first damage, after yielding the packets before it. */
  *packets(): Generator<CapturePacket> {
    for (;;) {
      const p = this.next();
      if (p === undefined) return;
      yield p;
    }
  }

  /** Call at end of input: throws if a partial record or no header remains. */
  finish(): void {
    const left = this.buf.length - this.pos;
    const at = this.base + this.pos;
    if (this.format === 'unknown') {
      throw truncatedError(at, left === 0 ? 'empty input, no capture file header' : `only ${String(left)} bytes of file header`);
    }
    if (left > 0) throw truncatedError(at, `${String(left)} bytes of an incomplete ${this.format === 'pcap' ? 'record' : 'block'}`);
  }

  /** The next packet, or undefined when more input is needed. */
  next(): CapturePacket | undefined {
    if (!this.step()) return undefined;
    const c = this.cur;
    return {
      linktype: c.linktype,
      interfaceId: c.interfaceId,
      swapped: c.swapped,
      tsSec: c.tsSec,
      tsFrac: c.tsFrac,
      tsResolution: c.tsResolution,
      caplen: c.caplen,
      origlen: c.origlen,
      data: this.buf.subarray(c.start, c.start + c.caplen),
      offset: c.offset,
    };
  }

  /** The buffer `cur.start` indexes into (valid until the next push or refill). */
  buffer(): Uint8Array {
    return this.buf;
  }

  /**
   * Advance to the next packet without allocating: fills `cur` and returns
   * true, or returns false when more input is needed. For hot loops.
   */
  step(): boolean {
    for (;;) {
      const avail = this.buf.length - this.pos;
      if (this.format === 'unknown') {
        if (avail < 4) return false;
        if (!this.detect()) return false;
        continue;
      }
      if (this.format === 'pcap') return this.nextPcap(avail);
      const r = this.nextBlock(avail);
      if (r === 'more') return false;
      if (r === 'packet') return true;
    }
  }

  private detect(): boolean {
    const b = this.buf;
    const p = this.pos;
    const magic = u32(b, p, true);
    if (magic === PCAPNG_SHB) {
      this.format = 'pcapng';
      return true;
    }
    if (b.length - p < 24) return false;
    const known: Record<number, [boolean, number, number]> = {
      0xa1b2c3d4: [true, 1e6, 16],
      0xd4c3b2a1: [false, 1e6, 16],
      0xa1b23c4d: [true, 1e9, 16],
      0x4d3cb2a1: [false, 1e9, 16],
      // Alexey Kuznetzov's modified pcap: 8 more bytes per record header.
      0xa1b2cd34: [true, 1e6, 24],
      0x34cdb2a1: [false, 1e6, 24],
    };
    const k = known[magic];
    if (k === undefined) throw corruptError(this.base + p, `unknown file magic 0x${magic.toString(16).padStart(8, '0')}, not pcap or pcapng`);
    [this.le, this.tsResolution, this.recordHeader] = k;
    this.cur.swapped = this.le !== HOST_LE;
    const major = u16(b, p + 4, this.le);
    if (major !== 2) throw corruptError(this.base + p + 4, `unsupported pcap version ${String(major)}`);
    this.snaplen = u32(b, p + 16, this.le);
    // pcap-linktype(7): the low 26 bits are the link type, the rest FCS flags.
    const field = u32(b, p + 20, this.le);
    this.linktype = field & 0x03ffffff;
    this.linktypeExt = (field & 0xfc000000) >>> 0;
    this.snapshot = adjustSnapshot(this.linktype, this.snaplen);
    const max = maxSnaplen(this.linktype);
    if (this.snaplen === 0 || this.snaplen > max) this.snaplen = max;
    this.maxCaplen = max;
    this.format = 'pcap';
    this.pos = p + 24;
    return true;
  }

  private nextPcap(avail: number): boolean {
    const b = this.buf;
    const p = this.pos;
    const hl = this.recordHeader;
    if (avail < hl) return false;
    const le = this.le;
    // The record header's four u32 fields, read inline: this runs once per packet.
    let tsSec: number;
    let tsFrac: number;
    let caplen: number;
    let origlen: number;
    if (le) {
      tsSec = ((b[p] ?? 0) | ((b[p + 1] ?? 0) << 8) | ((b[p + 2] ?? 0) << 16) | ((b[p + 3] ?? 0) << 24)) >>> 0;
      tsFrac = ((b[p + 4] ?? 0) | ((b[p + 5] ?? 0) << 8) | ((b[p + 6] ?? 0) << 16) | ((b[p + 7] ?? 0) << 24)) >>> 0;
      caplen = ((b[p + 8] ?? 0) | ((b[p + 9] ?? 0) << 8) | ((b[p + 10] ?? 0) << 16) | ((b[p + 11] ?? 0) << 24)) >>> 0;
      origlen = ((b[p + 12] ?? 0) | ((b[p + 13] ?? 0) << 8) | ((b[p + 14] ?? 0) << 16) | ((b[p + 15] ?? 0) << 24)) >>> 0;
    } else {
      tsSec = u32(b, p, false);
      tsFrac = u32(b, p + 4, false);
      caplen = u32(b, p + 8, false);
      origlen = u32(b, p + 12, false);
    }
    const offset = this.base + p;
    if (caplen > this.maxCaplen) {
      throw corruptError(offset, `packet capture length ${String(caplen)} is bigger than the maximum of ${String(this.maxCaplen)}`);
    }
    if (avail < hl + caplen) return false;
    this.pos = p + hl + caplen;
    const c = this.cur;
    c.linktype = this.linktype;
    c.interfaceId = 0;
    c.tsSec = tsSec;
    c.tsFrac = tsFrac;
    c.tsResolution = this.tsResolution;
    // libpcap keeps only the file's snaplen of an over-long record.
    c.caplen = caplen < this.snaplen ? caplen : this.snaplen;
    c.origlen = origlen;
    c.start = p + hl;
    c.offset = offset;
    return true;
  }

  private nextBlock(avail: number): 'packet' | 'more' | 'skip' {
    const b = this.buf;
    const p = this.pos;
    const offset = this.base + p;
    if (avail < 12) return 'more';
    const type = u32(b, p, this.le);
    if (type === PCAPNG_SHB) {
      // The byte-order magic says how to read this section, its own length included.
      const bom = u32(b, p + 8, true);
      if (bom === PCAPNG_BOM) this.le = true;
      else if (bom === 0x4d3c2b1a) this.le = false;
      else throw corruptError(offset + 8, `bad pcapng byte-order magic 0x${bom.toString(16)}`);
      this.cur.swapped = this.le !== HOST_LE;
    } else if (!this.sawShb) {
      throw corruptError(offset, 'pcapng file does not start with a section header block');
    }
    const len = u32(b, p + 4, this.le);
    if (len < 12 || len % 4 !== 0 || len > MAX_RECORD_BYTES) {
      throw corruptError(offset + 4, `pcapng block length ${String(len)} is invalid`);
    }
    if (avail < len) return 'more';
    this.pos = p + len;
    const body = p + 8;
    const bodyLen = len - 12;
    switch (type) {
      case PCAPNG_SHB:
        return this.readShb(body, bodyLen, offset);
      case 1:
        this.readIdb(body, bodyLen, offset);
        return 'skip';
      case 6:
        return this.readEpb(body, bodyLen, offset, false);
      case 2:
        return this.readEpb(body, bodyLen, offset, true);
      case 3:
        return this.readSpb(body, bodyLen, offset);
      default:
        return 'skip'; // NRB, ISB, DSB, custom blocks: not packets.
    }
  }

  private readShb(body: number, bodyLen: number, offset: number): 'skip' {
    if (bodyLen < 16) throw corruptError(offset, 'pcapng section header block too short');
    const major = u16(this.buf, body + 4, this.le);
    if (major !== 1) throw corruptError(offset + 12, `unsupported pcapng version ${String(major)}`);
    this.sawShb = true;
    this.interfaces = [];
    return 'skip';
  }

  private readIdb(body: number, bodyLen: number, offset: number): void {
    const b = this.buf;
    const le = this.le;
    if (bodyLen < 8) throw corruptError(offset, 'pcapng interface description block too short');
    const linktype = u16(b, body, le);
    let snaplen = u32(b, body + 4, le);
    const max = maxSnaplen(linktype);
    const snapshot = adjustSnapshot(linktype, snaplen);
    if (snaplen === 0 || snaplen > max) snaplen = max;
    const iface: Interface = { linktype, snaplen, snapshot, tsResolution: 1e6, tsOffset: 0 };
    let o = body + 8;
    const end = body + bodyLen;
    while (o + 4 <= end) {
      const code = u16(b, o, le);
      const olen = u16(b, o + 2, le);
      if (code === 0) break;
      if (o + 4 + olen > end) throw corruptError(this.base + o, 'pcapng option runs past its block');
      if (code === 9 && olen >= 1) {
        // if_tsresol: high bit clear → 10^-n s, set → 2^-n s.
        const v = b[o + 4] ?? 6;
        const n = v & 0x7f;
        const res = (v & 0x80) !== 0 ? 2 ** n : 10 ** n;
        if (!Number.isSafeInteger(res)) throw corruptError(this.base + o, `pcapng if_tsresol ${String(v)} is not supported`);
        iface.tsResolution = res;
      } else if (code === 14 && olen >= 8) {
        // if_tsoffset: seconds added to every timestamp (signed 64-bit).
        const lo = u32(b, le ? o + 4 : o + 8, le);
        const hi = u32(b, le ? o + 8 : o + 4, le) | 0;
        iface.tsOffset = hi * 2 ** 32 + lo;
      }
      o += 4 + ((olen + 3) & ~3);
    }
    this.interfaces.push(iface);
  }

  private readEpb(body: number, bodyLen: number, offset: number, obsolete: boolean): 'packet' {
    const b = this.buf;
    const le = this.le;
    if (bodyLen < 20) throw corruptError(offset, 'pcapng packet block too short');
    const id = obsolete ? u16(b, body, le) : u32(b, body, le);
    const iface = this.interfaces[id];
    if (iface === undefined) throw corruptError(offset + 8, `pcapng packet names interface ${String(id)}, which is not defined`);
    const hi = u32(b, body + 4, le);
    const lo = u32(b, body + 8, le);
    const caplen = u32(b, body + 12, le);
    const origlen = u32(b, body + 16, le);
    if (caplen > bodyLen - 20) throw corruptError(offset, `pcapng packet captured length ${String(caplen)} runs past its block`);
    if (caplen > maxSnaplen(iface.linktype)) {
      throw corruptError(offset, `packet capture length ${String(caplen)} is bigger than the maximum of ${String(maxSnaplen(iface.linktype))}`);
    }
    const kept = Math.min(caplen, iface.snaplen);
    return this.packet(iface, id, hi, lo, body + 20, kept, origlen, offset);
  }

  private readSpb(body: number, bodyLen: number, offset: number): 'packet' {
    const iface = this.interfaces[0];
    if (iface === undefined) throw corruptError(offset, 'pcapng simple packet block before any interface');
    if (bodyLen < 4) throw corruptError(offset, 'pcapng simple packet block too short');
    const origlen = u32(this.buf, body, this.le);
    // The SPB has no captured length: it is the smaller of the packet and the interface's snaplen.
    const caplen = Math.min(origlen, iface.snaplen, bodyLen - 4);
    return this.packet(iface, 0, 0, 0, body + 4, caplen, origlen, offset);
  }

  private packet(iface: Interface, id: number, hi: number, lo: number, start: number, caplen: number, origlen: number, offset: number): 'packet' {
    const res = iface.tsResolution;
    let tsSec: number;
    let tsFrac: number;
    const units = hi * 2 ** 32 + lo;
    if (Number.isSafeInteger(units)) {
      tsSec = Math.floor(units / res);
      tsFrac = units - tsSec * res;
      // Float division can land one off near a multiple of res.
      if (tsFrac < 0) {
        tsSec -= 1;
        tsFrac += res;
      } else if (tsFrac >= res) {
        tsSec += 1;
        tsFrac -= res;
      }
    } else {
      const big = (BigInt(hi) << 32n) | BigInt(lo);
      const r = BigInt(res);
      tsSec = Number(big / r);
      tsFrac = Number(big % r);
    }
    const c = this.cur;
    c.linktype = iface.linktype;
    c.interfaceId = id;
    c.tsSec = tsSec + iface.tsOffset;
    c.tsFrac = tsFrac;
    c.tsResolution = res;
    c.caplen = caplen;
    c.origlen = origlen;
    c.start = start;
    c.offset = offset;
    return 'packet';
  }
}
