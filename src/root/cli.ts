// `moat root` subcommand dispatch.
import { subcommandMain } from '../core/index.js';
import { buildMain } from './build-command.js';
import { lddMain } from './ldd.js';
import { runMain } from './run-command.js';
import { seaMain } from './sea.js';
import { verifyMain } from './verify-command.js';

export const USAGE = `usage: moat root <command> [options]

  build   --root DIR [--sysroot DIR] BINARY... [--file SRC[:DEST]]...
          copy binaries and their library closure into a minimal root
  ldd     [--sysroot DIR] FILE...      a safe ldd: read ELF headers, never run
  verify  --root DIR [--manifest FILE] report drift, setuid files, writable dirs
  run     --root DIR [--user U] -- CMD...   run a command inside a root (Linux)
  sea     --out FILE                   build moat as one executable (Node SEA)

'moat root <command> --help' describes each; moat-root(8) has the details.
`;

export const main = subcommandMain('root', USAGE, { build: buildMain, ldd: lddMain, verify: verifyMain, run: runMain, sea: seaMain });
