// moat bpf: the public face. Subcommands live in their own modules.
import { subcommandMain } from '../core/index.js';
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

export const main = subcommandMain('bpf', USAGE, { compile: compileMain, filter: filterMain, confine: confineMain });
