// moat net dhcpv6-check against captures this test builds byte by byte:
// DHCPv6 Reply/Advertise over UDP over IPv6 over Ethernet, in pcap and pcapng.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { EX_DATAERR } from '../../src/core/index.js';
import { main, parseDhcpv6, judgeIa } from '../../src/net/index.js';
import { captureIo } from '../helpers/io.js';
import { haveCommand, needs } from '../helpers/system.js';
import { run } from './netns-lib.js';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'moat-net-dhcpv6-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const be32 = (n: number): number[] => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
const be16 = (n: number): number[] => [(n >>> 8) & 0xff, n & 0xff];
const opt = (code: number, body: number[]): number[] => [...be16(code), ...be16(body.length), ...body];
/** 2001:db8::N */
const addr6 = (last: number): number[] => [0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), last];
const linkLocal = (last: number): number[] => [0xfe, 0x80, ...new Array<number>(13).fill(0), last];

interface Lease {
  t1: number;
  t2: number;
  preferred: number;
  valid: number;
}

function dhcpv6(type: number, lease: Lease, pd = false): number[] {
  const iaaddr = pd
    ? opt(26, [...be32(lease.preferred), ...be32(lease.valid), 56, ...addr6(0)])
    : opt(5, [...addr6(0x10), ...be32(lease.preferred), ...be32(lease.valid)]);
  return [
    type, 0x12, 0x34, 0x56,
    ...opt(1, [0, 3, 0, 1, 2, 0, 0, 0, 0, 2]),
    ...opt(2, [0, 3, 0, 1, 2, 0, 0, 0, 0, 1]),
    ...opt(pd ? 25 : 3, [...be32(1), ...be32(lease.t1), ...be32(lease.t2), ...iaaddr]),
  ];
}

/** Ethernet + IPv6 + UDP 547 → 546 around a DHCPv6 payload. */
function frame(payload: number[], srcPort = 547): number[] {
  const udp = [...be16(srcPort), ...be16(546), ...be16(payload.length + 8), 0, 0, ...payload];
  const ip6 = [0x60, 0, 0, 0, ...be16(udp.length), 17, 255, ...linkLocal(1), ...linkLocal(2), ...udp];
  return [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x86, 0xdd, ...ip6];
}

function pcap(frames: number[][]): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(65535, 16);
  head.writeUInt32LE(1, 20);
  const recs = frames.map((f, i) => {
    const h = Buffer.alloc(16);
    h.writeUInt32LE(1700000000 + i, 0);
    h.writeUInt32LE(f.length, 8);
    h.writeUInt32LE(f.length, 12);
    return Buffer.concat([h, Buffer.from(f)]);
  });
  return Buffer.concat([head, ...recs]);
}

function pcapng(frames: number[][]): Buffer {
  const block = (type: number, body: Buffer): Buffer => {
    const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
    const len = padded.length + 12;
    const b = Buffer.alloc(len);
    b.writeUInt32LE(type, 0);
    b.writeUInt32LE(len, 4);
    padded.copy(b, 8);
    b.writeUInt32LE(len, len - 4);
    return b;
  };
  const shb = Buffer.alloc(16);
  shb.writeUInt32LE(0x1a2b3c4d, 0);
  shb.writeUInt16LE(1, 4);
  shb.writeBigInt64LE(-1n, 8);
  const idb = Buffer.alloc(8);
  idb.writeUInt16LE(1, 0);
  idb.writeUInt32LE(65535, 4);
  const epbs = frames.map((f) => {
    const h = Buffer.alloc(20);
    h.writeUInt32LE(f.length, 12);
    h.writeUInt32LE(f.length, 16);
    return block(6, Buffer.concat([h, Buffer.from(f)]));
  });
  return Buffer.concat([block(0x0a0d0d0a, shb), block(1, idb), ...epbs]);
}

async function check(name: string, bytes: Buffer, extra: string[] = []): Promise<{ code: number; out: string; err: string }> {
  const file = join(dir, name);
  await writeFile(file, bytes);
  const io = captureIo();
  const code = await main(['dhcpv6-check', ...extra, file], io);
  return { code, out: io.out(), err: io.err() };
}

test('T1 > T2 in a Reply: the IA_NA is discarded (RFC 8415 §21.4), with the line dhcpcd logs', async () => {
  const r = await check('t1-gt-t2.pcap', pcap([frame(dhcpv6(7, { t1: 7200, t2: 3600, preferred: 14400, valid: 14400 }))]), ['--iface', 'vtnet0']);
  assert.equal(r.code, 1);
  assert.match(r.out, /packet 1: Reply from fe80::1: IA_NA iaid 1: T1 7200 T2 3600/);
  assert.match(r.out, /discard: T1 7200 > T2 3600: RFC 8415 §21\.4 \(RFC 3315 §22\.4\)/);
  assert.match(r.out, /dhcpcd logs "vtnet0: T1 \(7200\) > T2 \(3600\) from fe80::1"/);
});

test('preferred > valid: the address is discarded (RFC 8415 §21.6)', async () => {
  const r = await check('pref-gt-valid.pcapng', pcapng([frame(dhcpv6(2, { t1: 1800, t2: 2880, preferred: 7200, valid: 3600 }))]));
  assert.equal(r.code, 1);
  assert.match(r.out, /Advertise from fe80::1/);
  assert.match(r.out, /discard: 2001:db8::10: preferred 7200 > valid 3600: RFC 8415 §21\.6/);
  assert.match(r.out, /IA Address pltime 7200 > vltime 3600: Invalid argument/);
});

test('T1 = T2 = 0: the client chooses, from the shortest preferred lifetime; exit 0', async () => {
  const r = await check('zero.pcap', pcap([frame(dhcpv6(7, { t1: 0, t2: 0, preferred: 3600, valid: 7200 }))]));
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /note: T1 0, T2 0: .*renew at 1800 s and rebind at 2880 s/);
  assert.match(r.out, /ok: /);
});

test('an address that expires before renewal is misuse; exit 1', async () => {
  const r = await check('short.pcap', pcap([frame(dhcpv6(7, { t1: 3600, t2: 5400, preferred: 600, valid: 1200 }))]));
  assert.equal(r.code, 1);
  assert.match(r.out, /misuse: 2001:db8::10: valid lifetime 1200 ends before the client renews at T1 3600/);
});

test('a sound IA_PD lease passes; Solicits and other UDP are ignored', async () => {
  const good = frame(dhcpv6(7, { t1: 1800, t2: 2880, preferred: 3600, valid: 7200 }, true));
  const other = frame(dhcpv6(7, { t1: 9, t2: 1, preferred: 9, valid: 1 }), 5353);
  const r = await check('pd.pcapng', pcapng([other, good]));
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /packet 2: Reply from fe80::1: IA_PD iaid 1: T1 1800 T2 2880/);
  assert.doesNotMatch(r.out, /packet 1/);
});

test('a capture without DHCPv6 replies is a data error; a damaged one is a clear error', async () => {
  const r = await check('none.pcap', pcap([frame(dhcpv6(7, { t1: 1, t2: 2, preferred: 3, valid: 4 }), 53)]));
  assert.equal(r.code, EX_DATAERR);
  assert.match(r.err, /no DHCPv6 Advertise or Reply/);
  const bytes = pcap([frame(dhcpv6(7, { t1: 1, t2: 2, preferred: 3, valid: 4 }))]);
  await assert.rejects(check('cut.pcap', bytes.subarray(0, bytes.length - 10)), (e: unknown) => (e as { code?: string }).code?.startsWith('MOAT_PCAP') === true);
});

test('the flag form, with infinity', async () => {
  const io = captureIo();
  assert.equal(await main(['dhcpv6-check', '--t1', '0', '--t2', '0', '--preferred', 'infinity', '--valid', 'infinity'], io), 0, io.out());
  const bad = captureIo();
  assert.equal(await main(['dhcpv6-check', '--t1', '100', '--t2', '50', '--preferred', '200', '--valid', '300'], bad), 1);
  await assert.rejects(main(['dhcpv6-check', '--t1', 'soon', '--t2', '1', '--preferred', '1', '--valid', '1'], captureIo()), /--t1 wants seconds/);
});

test('truncated options end the parse without reading past the buffer', () => {
  const msg = dhcpv6(7, { t1: 1, t2: 2, preferred: 3, valid: 4 });
  for (let n = 0; n < msg.length; n++) {
    const m = parseDhcpv6(Uint8Array.from(msg.slice(0, n)));
    for (const ia of m?.ias ?? []) judgeIa(ia);
  }
  assert.equal(parseDhcpv6(Uint8Array.from(msg))?.ias[0]?.leases[0]?.what, '2001:db8::10');
});

test('tcpdump reads the test-built captures as the same DHCPv6 messages', async (t) => {
  if (!needs(t, { tcpdump: haveCommand('tcpdump') })) return;
  const file = join(dir, 'tcpdump.pcap');
  await writeFile(file, pcap([frame(dhcpv6(7, { t1: 7200, t2: 3600, preferred: 14400, valid: 14400 }))]));
  const r = run(['tcpdump', '-n', '-vv', '-r', file]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /dhcp6 reply/);
  assert.match(r.stdout, /IA_NA IAID:1 T1:7200 T2:3600/);
  assert.match(r.stdout, /IA_ADDR 2001:db8::10 pltime:14400 vltime:14400/);
});
