import { errorMessage, MoatError, UsageError } from './errors.js';
import { EX_DATAERR, EX_OK, EX_SOFTWARE, EX_USAGE } from './exit-codes.js';
import { systemError } from './fs-errors.js';
import type { Io } from './io.js';
import { findTool, type ToolTable } from './registry.js';
import { SourceSyntaxError } from './syntax-error.js';

export interface CliInfo {
  readonly version: string;
  /** The tools, from bin/tools.ts. */
  readonly tools: ToolTable;
}

/** `moat --help`: every tool in the table, one line each, without loading any. */
export function topHelp(tools: ToolTable): string {
  const width = Math.max(8, ...tools.map((t) => t.name.length));
  const lines = tools.map((t) => `  ${t.name.padEnd(width)}  ${t.summary}`);
  return [
    'usage: moat <tool> [options] [args]',
    '       moat --help | --version',
    '',
    'tools:',
    ...lines,
    '',
    "Run 'moat <tool> --help' for a tool's options; see moat(1) and each tool's man page.",
    '',
  ].join('\n');
}

/**
 * The whole CLI as a function: dispatch to a tool, and turn errors into the
 * messages and exit codes BSD users expect. Never throws; only bin/moat.ts exits.
 */
export async function runCli(argv: readonly string[], io: Io, info: CliInfo): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    io.stdout.write(topHelp(info.tools));
    return first === undefined ? EX_USAGE : EX_OK;
  }
  if (first === '--version' || first === '-V') {
    io.stdout.write(`moat ${info.version}\n`);
    return EX_OK;
  }
  if (first.startsWith('-')) {
    io.stderr.write(`moat: unknown option '${first}'; try 'moat --help'\n`);
    return EX_USAGE;
  }
  const tool = findTool(info.tools, first);
  if (tool === undefined) {
    io.stderr.write(`moat: unknown tool '${first}'; try 'moat --help'\n`);
    return EX_USAGE;
  }
  return runCommand(`moat ${first}`, async () => (await tool.load())(rest, io), io);
}

/**
 * Run a command body and map what it throws: a usage error is one line and
 * exit 64, a syntax error is its caret format, a MoatError its message and
 * exit code; anything else is a bug, reported in one line with exit 70
 * (MOAT_DEBUG=1 shows the stack).
 */
export async function runCommand(label: string, body: () => Promise<number>, io: Io): Promise<number> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`${e.message}; ${e.hint}\n`);
      return EX_USAGE;
    }
    if (e instanceof SourceSyntaxError) {
      io.stderr.write(`${e.format()}\n`);
      return EX_DATAERR;
    }
    // A file or socket error no tool worded: still the user's file, not a bug.
    const error = e instanceof MoatError ? e : systemError(e);
    if (error !== undefined) {
      io.stderr.write(`${label}: ${error.message}\n`);
      return error.exitCode;
    }
    io.stderr.write(`${label}: internal error: ${errorMessage(e)}\n`);
    if (io.env.MOAT_DEBUG === '1' && e instanceof Error && e.stack !== undefined) io.stderr.write(`${e.stack}\n`);
    return EX_SOFTWARE;
  }
}
