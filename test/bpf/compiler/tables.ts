// libpcap's TESTrun tables (exported to JSON in the shared test data; read
// in place, never copied into the repository).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sharedDir } from '../../helpers/system.js';

export interface AcceptBlock {
  DLT: string;
  aliases: string[];
  name: string;
  opt?: string | null;
  unopt?: string | null;
  /** The program when optimized and unoptimized are the same. */
  optunopt?: string | null;
  snaplen?: number;
  netmask?: string;
}
export interface ApplyCase {
  expr: string;
  name: string;
  results: number[];
  savefile: string;
  linktype?: string;
}
export interface RejectCase {
  DLT?: string;
  expr?: string;
  errstr: string;
  name: string;
}

interface Tables {
  accept: AcceptBlock[];
  apply: ApplyCase[];
  reject: RejectCase[];
}

let cached: Tables | undefined;

export function tables(): Tables {
  cached ??= JSON.parse(readFileSync(join(sharedDir, 'bpf', 'libpcap-filter-tests.json'), 'utf8')) as Tables;
  return cached;
}

/** The link types moat bpf compiles for. */
export const SUPPORTED_DLTS = new Set(['EN10MB', 'RAW', 'IPV4', 'IPV6', 'NULL', 'LOOP', 'LINUX_SLL', 'LINUX_SLL2', 'PFLOG',
  'IEEE802_11', 'IEEE802_11_RADIO', 'IEEE802_11_RADIO_AVS', 'PRISM_HEADER', 'PPI',
  'SLIP', 'PPP', 'PPP_BSDOS', 'PPP_SERIAL', 'PPP_ETHER', 'C_HDLC', 'FRELAY']);

/**
 * Grammar we do not compile (reported, not silently passed):
 * inbound/outbound/ifindex outside cooked, SLIP and pflog headers (libpcap
 * 1.10.3 emits Linux-only packet-metadata loads there; master refuses).
 */
export const UNSUPPORTED = /\binbound\b|\boutbound\b|\bifindex\b/;
