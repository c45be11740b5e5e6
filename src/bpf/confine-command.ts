// `moat bpf confine --addr A... -y DLT EXPR`: print the confined program.
import { EX_OK, UsageError, parseCommandLine, type Io } from '../core/index.js';
import { compileFilter, linktypeByName } from './compiler/index.js';
import { confine } from './confine/index.js';
import type { Program } from './insn.js';
import { dumpProgram } from './print/image.js';

const COMMAND = 'moat bpf confine';
const USAGE = `usage: ${COMMAND} --addr ADDR... [--no-multicast] [--no-broadcast] -y DLT [-O] [-n] [--freebsd] [-d|-dd|-ddd|--json] [EXPR]
  --addr ADDR      an address of the jail (IPv4 or IPv6; repeat for more)
  --no-multicast   do not pass IPv4/IPv6 multicast destinations
  --no-broadcast   do not pass 255.255.255.255 or link-layer broadcast
  -y DLT           link type: EN10MB, RAW, IPV4, IPV6, NULL, LOOP, LINUX_SLL,
                   LINUX_SLL2, PFLOG, IEEE802_11, IEEE802_11_RADIO, PRISM_HEADER,
                   IEEE802_11_RADIO_AVS, PPI
  -O               do not optimize the tenant's filter (as tcpdump -O)
  -n               do not look up names
  --freebsd        hold the result to FreeBSD's 512-instruction limit
  -d, -dd, -ddd    print as tcpdump -d (default), -dd or -ddd; --json as JSON
Prints one program equivalent to "confinement ? EXPR : reject", proved
confined by the checker; refuses (exit 65) when it cannot prove it.
`;

export async function confineMain(argv: readonly string[], io: Io): Promise<number> {
  // tcpdump spells -dd and -ddd as one dash; parseArgs would read them as -d -d.
  const args = argv.map((a) => (a === '-dd' ? '--dd' : a === '-ddd' ? '--ddd' : a));
  const { values, positionals } = parseCommandLine(COMMAND, args, {
    addr: { type: 'string', multiple: true },
    'no-multicast': { type: 'boolean' },
    'no-broadcast': { type: 'boolean' },
    linktype: { type: 'string', short: 'y' },
    optimize: { type: 'boolean', short: 'O' },
    numeric: { type: 'boolean', short: 'n' },
    freebsd: { type: 'boolean' },
    d: { type: 'boolean', short: 'd' },
    dd: { type: 'boolean' },
    ddd: { type: 'boolean' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help === true) {
    io.stdout.write(USAGE);
    return Promise.resolve(EX_OK);
  }
  if (values.addr === undefined) throw new UsageError(`${COMMAND}: at least one --addr is required`, `try '${COMMAND} --help'`);
  if (values.linktype === undefined) throw new UsageError(`${COMMAND}: -y DLT is required`, `try '${COMMAND} --help'`);
  const linktype = linktypeByName(values.linktype);
  if (linktype === undefined) throw new UsageError(`${COMMAND}: unknown link type '${values.linktype}'`, `try '${COMMAND} --help'`);
  const expr = positionals.join(' ');
  const user: Program =
    expr.trim() === ''
      ? [{ code: 0x06, jt: 0, jf: 0, k: 262144 }]
      : compileFilter(expr, { linktype, optimize: values.optimize !== true, resolveNames: values.numeric !== true });
  const prog = confine(user, {
    addrs: values.addr,
    multicast: values['no-multicast'] !== true,
    broadcast: values['no-broadcast'] !== true,
    linktype,
    freebsd: values.freebsd === true,
  });
  if (values.json === true) io.stdout.write(`${JSON.stringify(prog)}\n`);
  else io.stdout.write(dumpProgram(prog, values.ddd === true ? 3 : values.dd === true ? 2 : 1));
  return Promise.resolve(EX_OK);
}
