// Reading `pfctl -t TABLE -T show -v` (pfctl(8)): an address line, then
// "Cleared:" and one line per direction and action,
//   In/Block:    [ Packets: 0                  Bytes: 0                  ]
// (pfctl_table.c print_astats; OpenBSD 7 adds In/Match and Out/Match lines).
import { isIPv4, isIPv6 } from 'node:net';

export interface PfAddressStats {
  address: string;
  inPassPackets: bigint;
  inPassBytes: bigint;
  outPassPackets: bigint;
  outPassBytes: bigint;
}

const STAT = /^\s*(In|Out)\/(Block|Match|Pass|XPass):\s*\[\s*Packets:\s*(\d{1,20})\s+Bytes:\s*(\d{1,20})\s*\]\s*$/;

export function parsePfTableStats(text: string, max = 100_000): PfAddressStats[] {
  const out: PfAddressStats[] = [];
  let cur: PfAddressStats | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    const m = STAT.exec(line);
    if (m !== null) {
      if (cur === undefined) continue;
      const [, dir, op, p = '0', b = '0'] = m;
      if (op !== 'Pass') continue;
      if (dir === 'In') {
        cur.inPassPackets = BigInt(p);
        cur.inPassBytes = BigInt(b);
      } else {
        cur.outPassPackets = BigInt(p);
        cur.outPassBytes = BigInt(b);
      }
      continue;
    }
    if (/^\s*Cleared:/.test(line)) continue;
    // An address line: "   10.1.0.10" (a "!" marks a negated entry, which moat never adds).
    const addr = line.trim();
    if (addr !== '' && (isIPv4(addr) || isIPv6(addr))) {
      if (out.length >= max) break;
      cur = { address: addr.toLowerCase(), inPassPackets: 0n, inPassBytes: 0n, outPassPackets: 0n, outPassBytes: 0n };
      out.push(cur);
    } else {
      cur = undefined;
    }
  }
  return out;
}
