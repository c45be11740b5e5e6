import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError, isErrnoException } from './errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * `node:util` parseArgs, strict, with its errors turned into one-line
 * `UsageError`s (exit 64) that name the option and say where help is.
 * `command` is the command as the user typed it, e.g. `moat bpf compile`.
 */
export function parseCommandLine<const O extends Options>(
  command: string,
  argv: readonly string[],
  options: O,
  allowPositionals = true,
) {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals, strict: true, tokens: false });
  } catch (e) {
    if (isErrnoException(e) && typeof e.code === 'string' && e.code.startsWith('ERR_PARSE_ARGS')) {
      throw new UsageError(`${command}: ${shortParseMessage(e.message)}`, `try '${command} --help'`);
    }
    throw e;
  }
}

/** parseArgs' messages run to several sentences; keep the first, which names the option. */
function shortParseMessage(message: string): string {
  const first = message.split('\n')[0] ?? message;
  const m = /^Unknown option '([^']+)'/.exec(first);
  if (m) return `unknown option '${m[1] ?? ''}'`;
  const m2 = /^Option '([^']+)'.* argument missing/.exec(first);
  if (m2) return `option '${m2[1] ?? ''}' needs an argument`;
  const m3 = /^Unexpected argument '([^']+)'/.exec(first);
  if (m3) return `unexpected argument '${m3[1] ?? ''}'`;
  return first.replace(/\.\s.*$/, '').replace(/\.$/, '');
}

/** Parse a whole number option, with a usage error naming the option. */
export function intOption(
  command: string,
  name: string,
  value: string | undefined,
  fallback: number,
  range: { min?: number; max?: number } = {},
): number {
  if (value === undefined) return fallback;
  if (!/^-?\d+$/.test(value)) throw new UsageError(`${command}: --${name} wants a whole number, not '${value}'`, `try '${command} --help'`);
  const n = Number(value);
  if ((range.min !== undefined && n < range.min) || (range.max !== undefined && n > range.max)) {
    const lo = range.min === undefined ? '' : String(range.min);
    const hi = range.max === undefined ? '' : String(range.max);
    throw new UsageError(`${command}: --${name} must be in ${lo}..${hi}, not ${value}`, `try '${command} --help'`);
  }
  return n;
}
