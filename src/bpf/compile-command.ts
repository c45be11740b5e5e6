// `moat bpf compile [-O] [-n] [-y DLT] [-s snaplen] [-m netmask]
// [-d|-dd|-ddd|--json|--explain|--dot] EXPR`: compile a pcap-filter(7)
// expression and print it the way `tcpdump -d` does (or as JSON, annotated,
// or as a Graphviz graph). As in tcpdump(1), the program is optimized unless
// -O is given. Our optimizer keeps the unoptimized program's verdict on every
// packet (libpcap's does not always: libpcap #1699), so it is safe as the default.
import { EX_OK, UsageError, intOption, parseCommandLine, type Io } from '../core/index.js';
import { DEFAULT_SNAPLEN, compileFilterDetailed, linktypeByName, linktypeName } from './compiler/index.js';
import { parseIPv4 } from './compiler/names.js';
import { dumpProgram, explainProgram, programDot, programJson } from './print/index.js';

const COMMAND = 'moat bpf compile';
const USAGE = `usage: ${COMMAND} [-O] [-n] [-y DLT] [-s snaplen] [-m netmask] [-d|-dd|-ddd|--json|--explain|--dot] EXPR
  -O          do not optimize the program (as tcpdump -O)
  -n          do not look up host, service, protocol or network names
  -y DLT      link-layer type: EN10MB (default), RAW, IPV4, IPV6, NULL, LOOP,
              LINUX_SLL, LINUX_SLL2, PFLOG, SLIP, PPP, PPP_SERIAL, PPP_ETHER,
              PPP_BSDOS, C_HDLC, FRELAY, IEEE802_11, IEEE802_11_RADIO,
              PRISM_HEADER, IEEE802_11_RADIO_AVS, PPI, or a DLT number
  -s snaplen  value returned for accepted packets (default ${String(DEFAULT_SNAPLEN)})
  -m netmask  IPv4 netmask for 'ip broadcast': 255.255.255.0 or 24 (default 0)
  -d          print the program as tcpdump -d does (the default)
  -dd         as a C array (tcpdump -dd); -ddd: as decimal numbers (tcpdump -ddd)
  --json      as JSON, with each instruction's text and clause
  --explain   as -d, with the clause each instruction came from
  --dot       as a Graphviz control-flow graph (dot -Tsvg)
EXPR may be given as several arguments; they are joined with spaces.
Exit status: 0 compiled, 64 bad usage, 65 invalid expression or link type.
`;

/**
 * `-m`: a dotted mask (255.255.255.0) or a prefix length (24). A mask whose
 * one bits are not contiguous from the top is refused: no network has one,
 * and `ip broadcast` with it would test a meaningless host part.
 */
export function parseNetmask(text: string | undefined): number {
  if (text === undefined) return 0;
  const bad = (why: string): UsageError => new UsageError(`${COMMAND}: -m ${why}`, `try '${COMMAND} --help'`);
  if (/^\d+$/.test(text)) {
    const bits = Number(text);
    if (bits > 32) throw bad(`wants a prefix length from 0 to 32, not ${text}`);
    return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  }
  const mask = parseIPv4(text);
  if (mask === null) throw bad(`wants a netmask such as 255.255.255.0 or 24, not '${text}'`);
  // Contiguous: the complement is 2^k - 1, so adding one leaves no common bit.
  const host = ~mask >>> 0;
  if ((host & (host + 1)) !== 0) throw bad(`${text} is not a netmask: its one bits are not contiguous`);
  return mask;
}

export function compileMain(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandLine(COMMAND, argv, {
    optimize: { type: 'boolean', short: 'O' },
    numeric: { type: 'boolean', short: 'n' },
    linktype: { type: 'string', short: 'y' },
    snaplen: { type: 'string', short: 's' },
    netmask: { type: 'string', short: 'm' },
    dump: { type: 'boolean', short: 'd', multiple: true },
    json: { type: 'boolean' },
    explain: { type: 'boolean' },
    dot: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help === true) {
    io.stdout.write(USAGE);
    return Promise.resolve(EX_OK);
  }
  const dlt = linktypeByName(values.linktype ?? 'EN10MB');
  if (dlt === undefined) throw new UsageError(`${COMMAND}: unknown link type '${values.linktype ?? ''}'`, `try '${COMMAND} --help'`);
  const snaplen = intOption(COMMAND, 's', values.snaplen, DEFAULT_SNAPLEN, { min: 0, max: 0xffffffff });
  const netmask = parseNetmask(values.netmask);
  const level = Math.min(3, values.dump?.length ?? 1) as 1 | 2 | 3;
  const formats = [values.json, values.explain, values.dot].filter((v) => v === true).length + (values.dump === undefined ? 0 : 1);
  if (formats > 1) throw new UsageError(`${COMMAND}: choose one of -d, -dd, -ddd, --json, --explain, --dot`, `try '${COMMAND} --help'`);
  const expr = positionals.join(' ');
  const compiled = compileFilterDetailed(expr, {
    linktype: dlt,
    snaplen: snaplen === 0 ? DEFAULT_SNAPLEN : snaplen,
    netmask,
    optimize: values.optimize !== true,
    resolveNames: values.numeric !== true,
  });
  const prog = compiled.program;
  if (values.json === true) {
    io.stdout.write(programJson(prog, compiled.clauses, { linktype: linktypeName(dlt), snaplen, optimized: compiled.optimized }));
  } else if (values.explain === true) {
    io.stdout.write(explainProgram(prog, compiled.clauses));
  } else if (values.dot === true) {
    io.stdout.write(programDot(prog, expr));
  } else {
    io.stdout.write(dumpProgram(prog, level));
  }
  return Promise.resolve(EX_OK);
}
