// A synthetic Ethernet capture for `npm run bench -- bpf`: a traffic mix of
// IPv4 TCP/UDP/ICMP, IPv6, ARP and VLAN-tagged frames, some of it to or from
// the jail address 192.0.2.1, written as classic pcap.
import { PcapWriter } from '../src/core/index.js';
import { rng } from '../test/helpers/rng.js';

function frame(r: () => number): Uint8Array {
  const n = (x: number): number => Math.floor(r() * x);
  const kind = n(100);
  const p = new Uint8Array(64 + n(64));
  for (let i = 0; i < p.length; i++) p[i] = n(256);
  p[0] = kind < 3 ? 0xff : p[0] ?? 0 & 0xfe; // a few broadcasts
  let o = 12;
  if (kind >= 90) {
    p.set([0x81, 0x00, 0, 100], 12); // VLAN-tagged
    o = 16;
  }
  const v4 = (proto: number): void => {
    p.set([0x08, 0x00], o);
    const ip = o + 2;
    p.set([0x45, 0, 0, p.length - ip, 0, 0, 0x40, 0, 64, proto], ip);
    if (n(10) === 0) p.set([192, 0, 2, 1], ip + 12 + 4 * n(2));
    const l4 = ip + 20;
    if (proto === 6 || proto === 17) {
      const port = proto === 6 ? (n(3) === 0 ? 80 : 1024 + n(60000)) : n(3) === 0 ? 53 : 1024 + n(60000);
      p.set([port >> 8, port & 0xff], l4 + 2 * n(2));
    }
  };
  if (kind < 45 || kind >= 90) v4(6);
  else if (kind < 65) v4(17);
  else if (kind < 72) v4(1);
  else if (kind < 92) {
    p.set([0x86, 0xdd], o);
    p.set([0x60, 0, 0, 0, 0, 40, n(2) === 0 ? 6 : 17, 64], o + 2);
  } else p.set([0x08, 0x06], o);
  return p;
}

/** Write `packets` frames (or until `bytes` are written) to `file`. */
export async function writeBenchCapture(file: string, limit: { packets?: number; bytes?: number }): Promise<number> {
  const r = rng(42);
  const w = new PcapWriter(file, { linktype: 1 });
  let count = 0;
  let bytes = 24;
  while ((limit.packets === undefined || count < limit.packets) && (limit.bytes === undefined || bytes < limit.bytes)) {
    const data = frame(r);
    w.write({ linktype: 1, interfaceId: 0, tsSec: 1_700_000_000 + (count >> 10), tsFrac: count & 1023, tsResolution: 1e6, caplen: data.length, origlen: data.length, data, offset: 0 });
    count++;
    bytes += 16 + data.length;
  }
  await w.close();
  return count;
}
