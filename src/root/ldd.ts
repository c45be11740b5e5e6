// `moat root ldd`: ldd(1)'s output, from the ELF headers alone. The address
// in parentheses is where ld.so mapped the object; we map nothing, so it is 0.
import { EX_DATAERR, EX_NOINPUT, MoatError, errorMessage, parseCommandLine, type Io } from '../core/index.js';
import { Resolver, type Closure } from './resolver.js';
import { Tree } from './tree.js';

const ZERO = '(0x0000000000000000)';

export const LDD_USAGE = `usage: moat root ldd [--sysroot DIR] [--os linux|freebsd] [-v] FILE...

Print each FILE's shared library closure in ldd(1)'s format, found by
reading ELF headers (PT_INTERP, DT_NEEDED, DT_RPATH, DT_RUNPATH) and the
loader's configuration. FILE is never run, so this is safe on untrusted
and foreign binaries.

  --sysroot DIR   resolve FILE and every library inside DIR
  --os OS         the OS of the tree when the binaries do not say
  -v, --verbose   also list candidates skipped (wrong class, not ELF)
`;

/** One closure as ldd prints it, each line starting with a tab. */
export function formatLdd(c: Closure, verbose = false): string {
  let out = '';
  if (c.main.elf.interp === undefined && c.main.elf.needed.length === 0) return c.main.elf.dynamic ? '\tstatically linked\n' : '\tnot a dynamic executable\n';
  for (const lib of c.libs) out += `\t${lib.request} => ${lib.path} ${ZERO}\n`;
  for (const m of c.missing) out += m.name === c.interp?.request ? `\t${m.name} => ${m.why}\n` : `\t${m.name} => not found\n`;
  if (c.interp?.object !== undefined) out += `\t${c.interp.request} ${ZERO}\n`;
  if (verbose) for (const s of c.skipped) out += `\t# skipped ${s}\n`;
  return out;
}

export function lddMain(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandLine('moat root ldd', argv, {
    sysroot: { type: 'string' },
    os: { type: 'string' },
    verbose: { type: 'boolean', short: 'v' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help === true) {
    io.stdout.write(LDD_USAGE);
    return Promise.resolve(0);
  }
  if (positionals.length === 0) throw new MoatError('MOAT_USAGE', 'moat root ldd: name at least one FILE');
  const os = values.os;
  if (os !== undefined && os !== 'linux' && os !== 'freebsd') throw new MoatError('MOAT_USAGE', `moat root ldd: --os is linux or freebsd, not '${os}'`);
  const tree = new Tree(values.sysroot ?? '/');
  const resolver = new Resolver(tree, os === undefined ? {} : { os });
  let status = 0;
  for (const file of positionals) {
    const inTree = values.sysroot === undefined ? absolute(file, io.cwd) : file;
    if (positionals.length > 1) io.stdout.write(`${file}:\n`);
    try {
      const c = resolver.closure(inTree);
      io.stdout.write(formatLdd(c, values.verbose === true));
      if (c.missing.length > 0 || (!c.main.elf.dynamic && c.main.elf.interp === undefined)) status = Math.max(status, 1);
    } catch (e) {
      io.stderr.write(`moat root ldd: ${errorMessage(e)}\n`);
      status = e instanceof MoatError && e.exitCode === EX_NOINPUT ? EX_NOINPUT : EX_DATAERR;
    }
  }
  return Promise.resolve(status);
}

export function absolute(file: string, cwd: string): string {
  return file.startsWith('/') ? file : `${cwd.replace(/\/$/, '')}/${file}`;
}
