// What a capture reader yields and a writer takes, whatever the file format.
import { MoatError } from '../errors.js';

export interface CapturePacket {
  /** LINKTYPE_* of the interface the packet was captured on (tcpdump.org/linktypes.html). */
  linktype: number;
  /** pcapng interface index within its section; 0 for classic pcap. */
  interfaceId: number;
  tsSec: number;
  /** Fraction of a second, in units of 1/tsResolution. */
  tsFrac: number;
  /** Timestamp units per second (1e6 for µs, 1e9 for ns, 2^n for pcapng if_tsresol with the high bit set). */
  tsResolution: number;
  caplen: number;
  origlen: number;
  /** Exactly `caplen` bytes. May share memory with the reader's buffer: copy it to keep it past the next packet. */
  data: Uint8Array;
  /** Byte offset in the file of the record (pcap record header or pcapng block) holding this packet. */
  offset: number;
  /**
   * The file (pcapng: the section) is in the other byte order than this host's,
   * libpcap's pcap_is_swapped(). Filters need it: a NULL link header holds the
   * address family in the capturing host's order. Set by readers; writers ignore it.
   */
  swapped?: boolean;
}

/** A record or block larger than this is treated as corruption, which bounds memory. */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;

export function truncatedError(offset: number, what: string): MoatError {
  return new MoatError('MOAT_PCAP_TRUNCATED', `capture truncated at byte offset ${String(offset)}: ${what}`);
}

export function corruptError(offset: number, what: string): MoatError {
  return new MoatError('MOAT_PCAP_CORRUPT', `capture corrupt at byte offset ${String(offset)}: ${what}`);
}
