// `moat bpf filter -r IN -w OUT [-y DLT] [--confine ADDR]... EXPR`: like
// `tcpdump -r IN -w OUT EXPR`, filtering with the JIT. The filter is compiled
// per link type as packets arrive (a pcapng file may mix them), always before
// the output is opened; the output appears only when the run succeeds (or the
// input turns out damaged part way, when, as with tcpdump, the good packets
// before the damage are kept), and keeps the input's link type and snaplen.
import {
  EX_OK,
  MoatError,
  PcapWriter,
  Progress,
  UsageError,
  captureChunks,
  errnoReason,
  installStatusLine,
  parseCommandLine,
  type Io,
} from '../core/index.js';
import { compileFilter, linktypeByName, normalizeLinktype } from './compiler/index.js';
import { confine } from './confine/index.js';
import type { Program } from './insn.js';
import { prepareOutput } from './output-file.js';
import { jitBased, type BasedFilter } from './runtime/index.js';

const COMMAND = 'moat bpf filter';
const USAGE = `usage: ${COMMAND} -r IN -w OUT [-y DLT] [-O] [-n] [--confine ADDR]... [--no-multicast] [--no-broadcast] [EXPR]
  -r IN            capture to read (pcap or pcapng); - for stdin
  -w OUT           pcap file to write; - for stdout
  -y DLT           compile for this link type and keep only its packets
  -O               do not optimize the filter (as tcpdump -O)
  -n               do not look up host, service or protocol names
  --confine ADDR   only pass the jail ADDR's traffic (repeat for more addresses)
  --no-multicast   with --confine: drop multicast too
  --no-broadcast   with --confine: drop broadcast too
EXPR is a pcap-filter(7) expression; empty passes everything. As with
tcpdump -r, the netmask is 0 ('ip broadcast' tests the all-ones address).
OUT is replaced only when the run succeeds (written to a temporary file).
A progress line shows on a TTY; a summary (packets/s) ends on stderr.
Exit status: 0 done, 64 bad usage, 65 bad expression or damaged capture,
66 IN cannot be read, 73 OUT cannot be created.
`;

export interface FilterSetup {
  expr: string;
  optimize: boolean;
  resolveNames: boolean;
  confine?: { addrs: string[]; multicast: boolean; broadcast: boolean };
}

/**
 * The program for one link type, confined if asked. `swapped`: the capture is
 * in the other byte order than this host's; compiled as libpcap compiles for a
 * savefile, so `ip6` on NULL/LOOP matches what tcpdump -r matches.
 */
export function programFor(setup: FilterSetup, linktype: number, swapped = false): Program {
  const user: Program =
    setup.expr.trim() === ''
      ? [{ code: 0x06, jt: 0, jf: 0, k: 262144 }]
      : compileFilter(setup.expr, {
          linktype,
          optimize: setup.optimize,
          resolveNames: setup.resolveNames,
          savefile: { swapped },
          // tcpdump -r compiles with netmask 0 (it has no interface to ask).
          netmask: 0,
        });
  if (setup.confine === undefined) return user;
  return confine(user, { ...setup.confine, linktype });
}

/** tcpdump's words for an input it cannot open: `in.pcap: No such file or directory`. */
function cannotOpen(input: string, cause: unknown): MoatError {
  // errnoReason ends with the errno name in parentheses; tcpdump prints strerror(3) alone.
  const why = errnoReason(cause).replace(/ \(E[A-Z0-9]+\)$/, '');
  return new MoatError('MOAT_PCAP_OPEN', `${input}: ${why}`, { cause });
}

export async function filterMain(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandLine(COMMAND, argv, {
    read: { type: 'string', short: 'r' },
    write: { type: 'string', short: 'w' },
    linktype: { type: 'string', short: 'y' },
    optimize: { type: 'boolean', short: 'O' },
    numeric: { type: 'boolean', short: 'n' },
    confine: { type: 'string', multiple: true },
    'no-multicast': { type: 'boolean' },
    'no-broadcast': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help === true) {
    io.stdout.write(USAGE);
    return EX_OK;
  }
  const input = values.read;
  const output = values.write;
  if (input === undefined || output === undefined) throw new UsageError(`${COMMAND}: -r IN and -w OUT are required`, `try '${COMMAND} --help'`);
  let only: number | undefined;
  if (values.linktype !== undefined) {
    const dlt = linktypeByName(values.linktype);
    only = dlt === undefined ? undefined : normalizeLinktype(dlt);
    if (only === undefined) throw new UsageError(`${COMMAND}: unknown link type '${values.linktype}'`, `try '${COMMAND} --help'`);
  }
  const setup: FilterSetup = { expr: positionals.join(' '), optimize: values.optimize !== true, resolveNames: values.numeric !== true };
  if (values.confine !== undefined) {
    setup.confine = { addrs: values.confine, multicast: values['no-multicast'] !== true, broadcast: values['no-broadcast'] !== true };
  } else if (values['no-multicast'] === true || values['no-broadcast'] === true) {
    throw new UsageError(`${COMMAND}: --no-multicast and --no-broadcast need --confine`, `try '${COMMAND} --help'`);
  }
  // Compile once up front for -y, so a bad expression fails before any I/O.
  // Keyed by link type and byte order: a pcapng file may hold sections of both.
  const filters = new Map<number, BasedFilter>();
  const filterFor = (lt: number, swapped: boolean): BasedFilter => {
    const key = lt * 2 + (swapped ? 1 : 0);
    let f = filters.get(key);
    if (f === undefined) {
      f = jitBased(programFor(setup, lt, swapped));
      filters.set(key, f);
    }
    return f;
  };
  if (only !== undefined) filterFor(only, false);
  let lastType = -1;
  let lastSwapped = false;
  let lastFilter: BasedFilter = () => 0;

  const started = process.hrtime.bigint();
  let read = 0;
  let bytesIn = 0;
  let written = 0;
  const progress = new Progress({ stream: io.stderr, label: COMMAND, unit: 'packets' });
  const removeStatus = installStatusLine({ command: COMMAND, describe: () => `${String(read)} packets read, ${String(written)} written` });
  // Opened only once the input's header is read and the filter compiled for
  // it: a bad expression or a missing input never touches OUT.
  const out = output === '-' ? undefined : await prepareOutput(output);
  let writer: PcapWriter | undefined;
  let header: { linktype: number; snaplen: number; linktypeExt: number } | undefined;
  // tcpdump -r -w: the output file's header is the input's (pcap_dump_open
  // takes pcap_datalink and pcap_snapshot of the capture read, and writes
  // back the FCS bits of its link-type field, libpcap sf-pcap.c).
  const openWriter = (linktype: number): PcapWriter =>
    new PcapWriter(out === undefined ? io.stdout : out.path, { linktype, snaplen: header?.snaplen ?? 262144, linktypeExt: header?.linktypeExt ?? 0 });
  let failure: unknown;
  let keepOutput = true;
  try {
    for await (const parser of captureChunks(input === '-' ? io.stdin : input)) {
      let drain = false;
      try {
        // The parser's cursor and the based JIT: no object per packet in this loop.
        const c = parser.cur;
        const buf = parser.buffer();
        while (parser.step()) {
          read++;
          bytesIn += c.caplen + 16;
          // LINKTYPE_RAW (101) in files is DLT_RAW (12) on the command line.
          if (only !== undefined && normalizeLinktype(c.linktype) !== only) continue;
          // One link type is the rule: keep its filter at hand rather than look it up per packet.
          if (c.linktype !== lastType || c.swapped !== lastSwapped) {
            lastType = c.linktype;
            lastSwapped = c.swapped;
            lastFilter = filterFor(lastType, lastSwapped);
          }
          const snap = lastFilter(buf, c.start, c.caplen, c.origlen);
          if (snap === 0) continue;
          // Like libpcap: the filter's result is the snapshot length to keep.
          const keep = snap < c.caplen ? snap : c.caplen;
          if (writer === undefined) {
            header = parser.header;
            writer = openWriter(c.linktype);
          }
          if (!writer.writeAt(c.linktype, c.tsSec, c.tsFrac, c.tsResolution, keep, c.origlen, buf, c.start, c.offset)) drain = true;
          written++;
        }
        header ??= parser.header;
      } finally {
        progress.update(read, bytesIn);
      }
      if (drain) await writer?.drain();
    }
    // No packet passed (or none came): the expression must still compile for
    // the capture's link type, as tcpdump compiles it before reading.
    if (writer === undefined && header !== undefined) {
      const lt = only ?? header.linktype;
      filterFor(lt, false);
      writer = openWriter(lt);
    }
  } catch (e) {
    failure = e instanceof MoatError && e.code === 'MOAT_PCAP_OPEN' ? cannotOpen(input, e.cause) : e;
    // A capture damaged part way keeps the packets before the damage, as
    // tcpdump does; any other failure (the filter, the output) keeps nothing.
    keepOutput = writer !== undefined && e instanceof MoatError && (e.code === 'MOAT_PCAP_TRUNCATED' || e.code === 'MOAT_PCAP_CORRUPT');
  } finally {
    progress.finish();
    removeStatus();
  }
  try {
    // Every good packet before damage is written before the error is reported.
    if (writer !== undefined) await writer.close();
  } catch (e) {
    failure ??= e;
    keepOutput = false;
  }
  if (out !== undefined) {
    if (keepOutput && writer !== undefined) await out.commit();
    else await out.abandon();
  }
  if (failure !== undefined) throw failure instanceof Error ? failure : new MoatError('MOAT_BPF_FILTER', 'filtering failed', { cause: failure });
  const secs = Number(process.hrtime.bigint() - started) / 1e9;
  const rate = secs > 0 ? Math.round(read / secs) : read;
  const mbs = secs > 0 ? (bytesIn / 1e6 / secs).toFixed(1) : '0';
  io.stderr.write(`${COMMAND}: ${String(read)} packets read, ${String(written)} written in ${secs.toFixed(3)} s (${String(rate)} packets/s, ${mbs} MB/s)\n`);
  return EX_OK;
}
