import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CaptureParser, MoatError, PcapWriter, parseCaptureBuffer, readCapture, type CapturePacket } from '../../../src/core/index.js';
import { haveCommand, needs, sharedDir } from '../../helpers/system.js';

const pcapDirs = [join(sharedDir, 'bpf', 'pcaps', 'tcpdump'), join(sharedDir, 'bpf', 'pcaps', 'libpcap-filter')];

function allCaptures(): string[] {
  return pcapDirs.flatMap((d) => readdirSync(d).sort().map((f) => join(d, f)));
}

async function readAll(src: string | NodeJS.ReadableStream): Promise<{ packets: CapturePacket[]; error?: MoatError }> {
  const packets: CapturePacket[] = [];
  try {
    for await (const p of readCapture(src)) packets.push({ ...p, data: p.data.slice() });
  } catch (e) {
    if (e instanceof MoatError) return { packets, error: e };
    throw e;
  }
  return { packets };
}

// A pcapng block, padded, with its length at both ends.
function block(type: number, body: Uint8Array, le = true): Uint8Array {
  const padded = (body.length + 3) & ~3;
  const b = Buffer.alloc(12 + padded);
  const w = (v: number, o: number): number => (le ? b.writeUInt32LE(v, o) : b.writeUInt32BE(v, o));
  w(type, 0);
  w(b.length, 4);
  b.set(body, 8);
  w(b.length, b.length - 4);
  return b;
}

function u32s(le: boolean, ...vals: number[]): Buffer {
  const b = Buffer.alloc(4 * vals.length);
  vals.forEach((v, i) => (le ? b.writeUInt32LE(v >>> 0, 4 * i) : b.writeUInt32BE(v >>> 0, 4 * i)));
  return b;
}

function shb(le: boolean): Uint8Array {
  const body = Buffer.alloc(16);
  if (le) {
    body.writeUInt32LE(0x1a2b3c4d, 0);
    body.writeUInt16LE(1, 4);
  } else {
    body.writeUInt32BE(0x1a2b3c4d, 0);
    body.writeUInt16BE(1, 4);
  }
  body.fill(0xff, 8, 16); // section length unknown (-1)
  return block(0x0a0d0d0a, body, le);
}

function idb(le: boolean, linktype: number, snaplen: number, tsresol?: number): Uint8Array {
  const head = Buffer.alloc(8);
  if (le) {
    head.writeUInt16LE(linktype, 0);
    head.writeUInt32LE(snaplen, 4);
  } else {
    head.writeUInt16BE(linktype, 0);
    head.writeUInt32BE(snaplen, 4);
  }
  const opts: Buffer[] = [];
  if (tsresol !== undefined) {
    const o = Buffer.alloc(8);
    if (le) {
      o.writeUInt16LE(9, 0);
      o.writeUInt16LE(1, 2);
    } else {
      o.writeUInt16BE(9, 0);
      o.writeUInt16BE(1, 2);
    }
    o[4] = tsresol;
    opts.push(o, Buffer.alloc(4));
  }
  return block(1, Buffer.concat([head, ...opts]), le);
}

function epb(le: boolean, iface: number, units: bigint, data: Uint8Array, origlen = data.length): Uint8Array {
  const hi = Number(units >> 32n);
  const lo = Number(units & 0xffffffffn);
  return block(6, Buffer.concat([u32s(le, iface, hi, lo, data.length, origlen), data]), le);
}

describe('pcap and pcapng reading', () => {
  it('counts the same packets as tcpdump in every shared capture, and fails where it fails', async (t) => {
    if (!needs(t, { tcpdump: haveCommand('tcpdump') })) return;
    let files = 0;
    for (const file of allCaptures()) {
      const ours = await readAll(file);
      const r = spawnSync('tcpdump', ['-r', file, '-nn', '-q', '--count'], { encoding: 'utf8' });
      const m = /(\d+) packets?/.exec(r.stdout);
      const theirs = m ? Number(m[1]) : -1;
      const theirError = r.stderr.replace(/reading from file.*\n/, '').trim();
      assert.equal(ours.packets.length, theirs, `${file}: packet count`);
      assert.equal(ours.error !== undefined, theirError !== '', `${file}: ours ${String(ours.error?.message)} / tcpdump ${theirError}`);
      files++;
    }
    assert.ok(files > 800);
  });

  it('reads a file, a stream and a buffer alike', async () => {
    const file = join(sharedDir, 'bpf', 'pcaps', 'libpcap-filter', readdirSync(join(sharedDir, 'bpf', 'pcaps', 'libpcap-filter'))[0] ?? '');
    const buf = readFileSync(file);
    const fromFile = await readAll(file);
    const stream = new PassThrough();
    // Feed it in 7-byte pieces so records straddle chunks.
    for (let i = 0; i < buf.length; i += 7) stream.write(buf.subarray(i, i + 7));
    stream.end();
    const fromStream = await readAll(stream);
    const fromBuf = [...parseCaptureBuffer(buf)];
    assert.ok(fromFile.packets.length > 0);
    assert.deepEqual(fromStream.packets, fromFile.packets);
    assert.deepEqual(fromBuf.map((p) => ({ ...p, data: p.data.slice() })), fromFile.packets);
  });

  it('reads a capture of many read chunks from a file, records and a huge block straddling them', async () => {
    // The file reader reads 4 MiB chunks ahead into reused buffers; a record
    // cut by a chunk end is carried over, and a block longer than the room
    // kept for that is joined by copying. 14 MB of pcapng exercises each.
    const parts: Uint8Array[] = [shb(true), idb(true, 1, 65535)];
    let size = parts.reduce((n, b) => n + b.length, 0);
    let seq = 0;
    const packet = (): void => {
      const data = Buffer.alloc(40 + ((seq * 7919) % 1400));
      data.writeUInt32BE(seq, 0);
      data.writeUInt32BE(seq, data.length - 4);
      const b = epb(true, 0, BigInt(seq) * 1000n, data);
      parts.push(b);
      size += b.length;
      seq++;
    };
    const MiB = 1024 * 1024;
    while (size < 4 * MiB - 500_000) packet();
    // An unknown 1 MiB block across the first chunk boundary (skipped, never a packet).
    const huge = block(0x0bad, Buffer.alloc(MiB, 0x5a));
    parts.push(huge);
    size += huge.length;
    while (size < 14 * MiB) packet();
    const buf = Buffer.concat(parts);
    const dir = mkdtempSync(join(tmpdir(), 'moat-pcap-'));
    try {
      const file = join(dir, 'big.pcapng');
      writeFileSync(file, buf);
      const fromFile = await readAll(file);
      const fromBuf = [...parseCaptureBuffer(buf)].map((p) => ({ ...p, data: p.data.slice() }));
      assert.equal(fromFile.error, undefined);
      assert.equal(fromFile.packets.length, seq);
      assert.deepEqual(fromFile.packets, fromBuf);
      // Classic pcap through the writer, then back: same packets, same bytes.
      const out = join(dir, 'big.pcap');
      const w = new PcapWriter(out);
      for (const p of fromFile.packets) w.write(p);
      await w.close();
      const back = await readAll(out);
      assert.deepEqual(back.packets.map((p) => p.data), fromBuf.map((p) => p.data));
      assert.deepEqual(back.packets.map((p) => [p.tsSec, p.tsFrac, p.origlen]), fromBuf.map((p) => [p.tsSec, p.tsFrac, p.origlen]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('round-trips classic pcap byte for byte (µs and ns)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'moat-pcap-'));
    try {
      for (const name of readdirSync(pcapDirs[1] ?? '')) {
        const file = join(pcapDirs[1] ?? '', name);
        const buf = readFileSync(file);
        const magic = buf.readUInt32LE(0);
        if (magic !== 0xa1b2c3d4 && magic !== 0xa1b23c4d) continue; // only little-endian classic files re-write identically
        // Skip files with records longer than the snaplen: reading trims those, as libpcap does.
        const snap = buf.readUInt32LE(16);
        let over = false;
        for (let o = 24; o + 16 <= buf.length; o += 16 + buf.readUInt32LE(o + 8)) over ||= buf.readUInt32LE(o + 8) > snap;
        if (over) continue;
        const { packets } = await readAll(file);
        const out = join(dir, name);
        const w = new PcapWriter(out, { linktype: buf.readUInt32LE(20), snaplen: buf.readUInt32LE(16), precision: magic === 0xa1b23c4d ? 'ns' : 'us' });
        for (const p of packets) w.write(p);
        await w.close();
        const copy = readFileSync(out);
        // Header fields other than version/zone/sigfigs must agree, and every record byte.
        assert.deepEqual(copy.subarray(24), buf.subarray(24), name);
        assert.equal(copy.readUInt32LE(0), magic);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes to a stream, converting pcapng timestamps', async () => {
    const le = false;
    const cap = Buffer.concat([shb(le), idb(le, 1, 0, 9), epb(le, 0, 1_700_000_000_123_456_789n, new Uint8Array([1, 2, 3]))]);
    const [p] = [...parseCaptureBuffer(cap)];
    assert.ok(p);
    assert.equal(p.tsSec, 1_700_000_000);
    assert.equal(p.tsFrac, 123_456_789);
    assert.equal(p.tsResolution, 1e9);
    const sink = new PassThrough();
    const chunks: Buffer[] = [];
    sink.on('data', (c: Buffer) => chunks.push(c));
    const w = new PcapWriter(sink);
    w.write(p);
    await w.close();
    const back = [...parseCaptureBuffer(Buffer.concat(chunks))];
    const [b0] = back;
    assert.ok(b0);
    assert.equal(b0.tsFrac, 123_456);
    assert.equal(b0.tsResolution, 1e6);
    assert.deepEqual([...b0.data], [1, 2, 3]);
  });

  it('handles pcapng sections, interfaces with different link types, SPB, if_tsresol and unknown blocks', () => {
    const data = new Uint8Array([0x45, 0, 0, 20]);
    const cap = Buffer.concat([
      shb(true),
      idb(true, 1, 65535),
      idb(true, 101, 2, 0x80 | 10), // RAW, snaplen 2, 2^-10 s
      epb(true, 1, 3n * 1024n + 5n, data),
      block(0x0bad, new Uint8Array(5)), // custom block: skipped
      block(3, Buffer.concat([u32s(true, 9), new Uint8Array(9)])), // SPB on interface 0
      shb(false), // a new big-endian section forgets the interfaces
      idb(false, 12, 0),
      epb(false, 0, 7_000_001n, data),
    ]);
    const ps = [...parseCaptureBuffer(cap)];
    assert.equal(ps.length, 3);
    assert.deepEqual(ps.map((p) => [p.linktype, p.interfaceId, p.caplen, p.origlen]), [[101, 1, 2, 4], [1, 0, 9, 9], [12, 0, 4, 4]]);
    assert.deepEqual([ps[0]?.tsSec, ps[0]?.tsFrac, ps[0]?.tsResolution], [3, 5, 1024]);
    assert.deepEqual([ps[2]?.tsSec, ps[2]?.tsFrac], [7, 1]);
    assert.throws(() => [...parseCaptureBuffer(Buffer.concat([shb(true), epb(true, 0, 0n, data)]))], { code: 'MOAT_PCAP_CORRUPT' });
  });

  it('on truncation at every offset yields every whole packet, then names the offset', () => {
    const le = true;
    const recs = [new Uint8Array([1, 2, 3, 4, 5]), new Uint8Array([6]), new Uint8Array(0), new Uint8Array([7, 8])];
    const pcapng = Buffer.concat([shb(le), idb(le, 1, 0), ...recs.map((r, i) => epb(le, 0, BigInt(i), r))]);
    const hdr = Buffer.from('d4c3b2a1020004000000000000000000ffff000001000000', 'hex');
    const pcap = Buffer.concat([hdr, ...recs.map((r, i) => Buffer.concat([u32s(true, i, 0, r.length, r.length), r]))]);
    // Where a file may end cleanly: after its header (pcap) or after any block (pcapng).
    const pcapEnds = [24];
    for (const r of recs) pcapEnds.push((pcapEnds[pcapEnds.length - 1] ?? 0) + 16 + r.length);
    const ngParts = [shb(le), idb(le, 1, 0), ...recs.map((r, i) => epb(le, 0, BigInt(i), r))];
    const ngEnds: number[] = [];
    ngParts.reduce((at, part) => (ngEnds.push(at + part.length), at + part.length), 0);
    for (const [whole, clean] of [[pcap, pcapEnds], [pcapng, ngEnds]] as const) {
      const starts = [...parseCaptureBuffer(whole)].map((p) => p.offset);
      assert.equal(starts.length, recs.length);
      for (let cut = 0; cut < whole.length; cut++) {
        const got: CapturePacket[] = [];
        let err: unknown;
        try {
          for (const p of parseCaptureBuffer(whole.subarray(0, cut))) got.push(p);
        } catch (e) {
          err = e;
        }
        const complete = clean.slice(-recs.length).filter((end) => end <= cut).length;
        assert.equal(got.length, complete, `cut at ${String(cut)}`);
        if (clean.includes(cut)) {
          assert.equal(err, undefined, `cut at ${String(cut)}`);
        } else {
          assert.ok(err instanceof MoatError, `cut at ${String(cut)} should fail`);
          assert.equal(err.code, 'MOAT_PCAP_TRUNCATED');
          const at = Number(/byte offset (\d+)/.exec(err.message)?.[1]);
          // The offset is where the broken record starts: the end of the last whole one.
          assert.equal(at, Math.max(0, ...clean.filter((end) => end <= cut)), `cut at ${String(cut)}`);
        }
      }
    }
  });

  it('never crashes or hangs on garbage', () => {
    let seed = 12345;
    const rand = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed >>> 16;
    };
    const base = Buffer.concat([shb(true), idb(true, 1, 0), epb(true, 0, 1n, new Uint8Array(40))]);
    for (let i = 0; i < 3000; i++) {
      const b = Buffer.from(i % 2 === 0 ? base : Buffer.from('d4c3b2a1020004000000000000000000ffff00000100000000000000000000000800000008000000', 'hex'));
      for (let j = 0; j < 1 + (rand() % 6); j++) b[rand() % b.length] = rand() & 0xff;
      try {
        const parser = new CaptureParser();
        parser.push(b);
        for (const p of parser.packets()) assert.ok(p.data.length <= b.length);
        parser.finish();
      } catch (e) {
        assert.ok(e instanceof MoatError, String(e));
        assert.match(e.code, /^MOAT_PCAP_/);
      }
    }
  });
});
