// `moat bpf compile [-O] [-n] [-y DLT] [-s snaplen] [-m netmask]
// [-d|-dd|-ddd|--json|--explain|--dot] EXPR`: compile a pcap-filter(7)
// expression and print it the way `tcpdump -d` does (or as JSON, annotated,
// or as a Graphviz graph). Unlike tcpdump, the optimizer is off unless -O is
// given: libpcap's optimizer has known miscompilations (libpcap #1699), and
// ours is checked against the unoptimized program.
import { EX_OK, UsageError, intOption, parseCommandLine, type Io } from '../core/index.js';
import { DEFAULT_SNAPLEN, compileFilterDetailed, linktypeByName, linktypeName } from './compiler/index.js';
import { parseIPv4 } from './compiler/names.js';
import { dumpProgram, explainProgram, programDot, programJson } from './print/index.js';

const COMMAND = 'moat bpf compile';
const USAGE = `usage: ${COMMAND} [-O] [-n] [-y DLT] [-s snaplen] [-m netmask] [-d|-dd|-ddd|--json|--explain|--dot] EXPR
  -O          run the optimizer (off by default; libpcap's has known bugs)
  -n          do not look up host, service, protocol or network names
  -y DLT      link-layer type: EN10MB (default), RAW, IPV4, IPV6, NULL, LOOP,
              LINUX_SLL, LINUX_SLL2, PFLOG, IEEE802_11, IEEE802_11_RADIO,
              PRISM_HEADER, IEEE802_11_RADIO_AVS, PPI, or a DLT number
  -s snaplen  value returned for accepted packets (default ${String(DEFAULT_SNAPLEN)})
  -m netmask  IPv4 netmask for 'ip broadcast' (default 0, as tcpdump -d)
  -d          print the program as tcpdump -d does (the default)
  -dd         as a C array (tcpdump -dd); -ddd: as decimal numbers (tcpdump -ddd)
  --json      as JSON, with each instruction's text and clause
  --explain   as -d, with the clause each instruction came from
  --dot       as a Graphviz control-flow graph (dot -Tsvg)
EXPR may be given as several arguments; they are joined with spaces.
Exit status: 0 compiled, 65 the expression is invalid, 64 bad usage.
`;

function parseNetmask(text: string | undefined): number {
  if (text === undefined) return 0;
  if (/^\d+$/.test(text)) return intOption(COMMAND, 'm', text, 0, { min: 0, max: 0xffffffff });
  if (/^0x[0-9a-f]+$/i.test(text)) return Number(text) >>> 0;
  const v = parseIPv4(text);
  if (v === null) throw new UsageError(`${COMMAND}: -m wants a netmask such as 255.255.255.0, not '${text}'`, `try '${COMMAND} --help'`);
  return v;
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
    optimize: values.optimize === true,
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
