// moat bpf: the public face. Subcommands live in their own modules.
import { EX_OK, EX_USAGE, registerTool, type Io } from '../core/index.js';
import { compileMain } from './compile-command.js';
import { confineMain } from './confine-command.js';
import { filterMain } from './filter-command.js';

export * from './insn.js';
export * from './compiler/index.js';
export * from './print/index.js';
export * from './runtime/index.js';
export * from './confine/index.js';

const USAGE = `usage: moat bpf compile [-O] [-n] [-y DLT] [-s snaplen] [-m netmask] [-d|-dd|-ddd|--json|--explain|--dot] EXPR
       moat bpf filter -r IN -w OUT [-y DLT] [--confine ADDR]... EXPR
       moat bpf confine --addr ADDR... [--no-multicast] [--no-broadcast] -y DLT EXPR
`;

export async function main(argv: readonly string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'compile':
      return compileMain(rest, io);
    case 'filter':
      return filterMain(rest, io);
    case 'confine':
      return confineMain(rest, io);
    case '--help':
    case '-h':
      io.stdout.write(USAGE);
      return EX_OK;
    default:
      io.stderr.write(sub === undefined ? USAGE : `moat bpf: unknown command '${sub}'; try 'moat bpf --help'\n`);
      return EX_USAGE;
  }
}

registerTool({
  name: 'bpf',
  summary: 'pcap-filter compiler, BPF interpreter and JIT, capture filtering, confinement',
  manPage: 'moat-bpf(8)',
  main,
});
