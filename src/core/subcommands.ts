// One dispatcher for tools whose CLI is `moat <tool> <command> ...`, so that
// every tool answers a missing, unknown or help request the same way.
import { UsageError } from './errors.js';
import { EX_OK, EX_USAGE } from './exit-codes.js';
import type { CommandMain, Io } from './io.js';

export type Subcommands = Readonly<Record<string, CommandMain>>;

/**
 * Build `main` for a tool with subcommands.
 * - `--help`, `-h` or `help`: the usage on stdout, exit 0;
 * - no command: the usage on stderr, exit 64 (EX_USAGE), as BSD tools do;
 * - an unknown command: one line naming it and a hint (exit 64 via runCommand).
 * A tool that is also a daemon with the original's flags (ifstated(8) takes
 * no command) gives `byDefault`: it then runs with the whole argv when there
 * is no command or the first word is an option.
 */
export function subcommandMain(tool: string, usage: string, commands: Subcommands, byDefault?: CommandMain): CommandMain {
  return async (argv: readonly string[], io: Io): Promise<number> => {
    const [sub, ...rest] = argv;
    if (sub === '--help' || sub === '-h' || sub === 'help') {
      io.stdout.write(usage);
      return EX_OK;
    }
    if (byDefault !== undefined && (sub === undefined || sub.startsWith('-'))) return byDefault(argv, io);
    if (sub === undefined) {
      io.stderr.write(usage);
      return EX_USAGE;
    }
    // Own properties only: a command named `constructor` or `__proto__` is unknown.
    const run = Object.hasOwn(commands, sub) ? commands[sub] : undefined;
    if (run === undefined) throw new UsageError(`moat ${tool}: unknown command '${sub}'`, `try 'moat ${tool} --help'`);
    return run(rest, io);
  };
}
