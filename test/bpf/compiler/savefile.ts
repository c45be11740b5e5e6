// Compile options for a capture file, as libpcap's pcap_offline_filter
// compiles (savefile mode): whether the file's byte order is this host's.
import { closeSync, openSync, readSync } from 'node:fs';
import os from 'node:os';

/** { swapped } for a pcap or pcapng file: its byte order differs from the host's. */
export function savefileOf(file: string): { swapped: boolean } {
  const b = Buffer.alloc(12);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, b, 0, 12, 0);
  } finally {
    closeSync(fd);
  }
  // pcapng: the section header's byte-order magic follows type and length.
  const pcapng = b.readUInt32LE(0) === 0x0a0d0d0a;
  const little = pcapng ? b.readUInt32LE(8) === 0x1a2b3c4d : [0xa1b2c3d4, 0xa1b23c4d].includes(b.readUInt32LE(0));
  return { swapped: little !== (os.endianness() === 'LE') };
}
