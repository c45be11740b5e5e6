// `moat net render` and `moat net check`: the command-line side.
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { EX_DATAERR, EX_FAIL, EX_OK, MoatError, UsageError, onFile, parseCommandLine, writeFilesAtomically, type Io } from '../core/index.js';
import { parseSpec } from '../core/spec-loader.js';
import { isMap, parseDocument } from 'yaml';
import { FREEBSD_CURRENT } from './freebsd-routing-order.js';
import { analyze } from './lint-analyze.js';
import { judgeKind, kindByContent, kindByName, kindName, type Family, type FileKind } from './lint-kind.js';
import { parseFile } from './lint-parse.js';
import { formatFinding, isError, type Finding } from './lint-rules.js';
import { lintSpec } from './lint-spec.js';
import { renderSpec } from './render.js';
import { TARGETS, targetFamily, type Target } from './render-types.js';
import { netSpecSchema } from './spec-schema.js';

export const RENDER_USAGE = `usage: moat net render SPEC.yaml --os TARGET -o|--out DIR [--release R] [--guest NAME]...
  TARGET: ${TARGETS.join(' ')}
  Writes each machine's files under DIR/MACHINE/…; --guest renders the named
  guests in TARGET's form whatever their own OS; --release picks the
  OpenBSD/NetBSD form (OpenBSD: -cloning up to 5.9, -llinfo from 6.0).
  The spec is first checked as 'moat net check' does: an error writes nothing
  (exit 65); a warning is printed and the files are written.
`;
export const CHECK_USAGE = `usage: moat net check SPEC.yaml...
       moat net check --os OS [--release R] FILE...
  Lint a spec, or a system's files (OS: freebsd openbsd netbsd linux, or a
  render TARGET): hostname.if, ifconfig.if, route.conf, rc.conf, rc.conf.local,
  rc.conf.d/*, netstart.local, pf.conf, ipsec.conf, npppd.conf, sysctl.conf,
  interfaces, interfaces.d/*, netplan YAML, .network, swanctl.conf, *.sh.
  Another name is read by its content; a file of no known kind is refused
  (exit 65). Exit 1 when a rule fires.
  --release R: the system's release (FreeBSD: rc.d/routing adds defaultrouter
  before static_routes up to 9.x, after them from 10.0; default ${FREEBSD_CURRENT}).
`;

const FAMILIES: readonly Family[] = ['freebsd', 'openbsd', 'netbsd', 'linux'];

/** Files larger than this are not network configuration. */
const MAX_FILE = 4 * 1024 * 1024;

function parseTarget(command: string, value: string | undefined): Target {
  if (value === undefined) throw new UsageError(`${command}: --os is required`, `try '${command} --help'`);
  const t = TARGETS.find((x) => x === value);
  if (t === undefined) {
    const forms = TARGETS.filter((x) => x.startsWith(`${value}-`));
    throw new UsageError(
      forms.length > 0
        ? `${command}: --os ${value}: name the form, one of ${forms.join(', ')}`
        : `${command}: --os must be one of ${TARGETS.join(', ')}, not '${value}'`,
      `try '${command} --help'`,
    );
  }
  return t;
}

/** check --os takes a system (freebsd, openbsd, netbsd, linux) or any render target. */
function parseFamily(command: string, value: string): Family {
  const family = FAMILIES.find((x) => x === value);
  if (family !== undefined) return family;
  const t = TARGETS.find((x) => x === value);
  if (t === undefined) {
    throw new UsageError(`${command}: --os must be one of ${[...FAMILIES, ...TARGETS.filter((x) => x.startsWith('linux-'))].join(', ')}, not '${value}'`, `try '${command} --help'`);
  }
  return targetFamily(t);
}

function parseRelease(command: string, value: string | undefined): string | undefined {
  if (value !== undefined && !/^\d{1,2}\.\d{1,2}$/.test(value)) {
    throw new UsageError(`${command}: --release wants a release such as 9.3, 5.9 or 7.6, not '${value}'`, `try '${command} --help'`);
  }
  return value;
}

export async function renderMain(argv: readonly string[], io: Io): Promise<number> {
  const command = 'moat net render';
  const { values, positionals } = parseCommandLine(command, argv, {
    os: { type: 'string' },
    out: { type: 'string', short: 'o' },
    release: { type: 'string' },
    guest: { type: 'string', multiple: true },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help === true) {
    io.stdout.write(RENDER_USAGE);
    return EX_OK;
  }
  const [specFile, extra] = positionals;
  if (specFile === undefined || extra !== undefined) throw new UsageError(`${command}: give exactly one SPEC.yaml`, `try '${command} --help'`);
  const target = parseTarget(command, values.os);
  if (values.out === undefined) throw new UsageError(`${command}: -o/--out DIR is required`, `try '${command} --help'`);
  const release = parseRelease(command, values.release);
  const text = await readText(io, specFile);
  const spec = parseSpec(netSpecSchema, text, specFile);
  // moat-net(8): the spec is validated before anything is written, by the
  // same rules as check: an error stops the render, a warning is printed.
  const findings = lintSpec(spec, text, specFile);
  const errors = findings.filter(isError);
  for (const f of errors) io.stderr.write(`${formatFinding(f)}\n`);
  if (errors.length > 0) {
    throw new MoatError('MOAT_SPEC_INVALID', `${specFile}: ${String(errors.length)} error${errors.length === 1 ? '' : 's'} (see 'moat net check'); nothing written`);
  }
  for (const f of findings) io.stderr.write(`moat net render: warning: ${formatFinding(f)}\n`);
  const result = renderSpec(spec, {
    target,
    ...(release === undefined ? {} : { release }),
    ...(values.guest === undefined ? {} : { guests: values.guest }),
  });
  for (const w of result.warnings) io.stderr.write(`moat net render: warning: ${w}\n`);
  const written = await writeFilesAtomically(resolve(io.cwd, values.out), result.files);
  for (const p of written) io.stdout.write(`${p}\n`);
  return EX_OK;
}

async function readText(io: Io, file: string): Promise<string> {
  const path = resolve(io.cwd, file);
  // core's file errors: the path, strerror's text, EX_NOINPUT or EX_NOPERM.
  return onFile(file, 'read', async () => {
    const st = await stat(path);
    if (!st.isFile()) throw new MoatError('MOAT_NET_READ', `${file}: not a regular file`);
    if (st.size > MAX_FILE) throw new MoatError('MOAT_NET_TOO_BIG', `${file}: larger than ${String(MAX_FILE)} bytes`);
    return readFile(path, 'utf8');
  });
}

/** Without --os every file is a spec: a system file given so is refused, naming it. */
function refuseSystemFile(command: string, file: string, text: string): void {
  const byName = kindByName(file);
  const byContent = kindByContent(text);
  const doc = parseDocument(text);
  const yamlMap = doc.errors.length === 0 && (doc.contents === null || isMap(doc.contents));
  // A spec is YAML too: a .yaml name says nothing, a netplan "network:" map does.
  let kind: FileKind | undefined = byName !== undefined && byName !== 'netplan' ? byName : byContent === 'netplan' ? 'netplan' : undefined;
  if (kind === undefined && !yamlMap) kind = byContent;
  if (kind === undefined && (yamlMap || doc.errors.length > 0)) return;
  const what = kind === undefined ? 'not a spec (a YAML map)' : `${kindName(kind)}, not a spec`;
  throw new UsageError(`${command}: ${file} is ${what}; to lint it give --os ${FAMILIES.join('|')}`, `try '${command} --help'`);
}

export async function checkMain(argv: readonly string[], io: Io): Promise<number> {
  const command = 'moat net check';
  const { values, positionals } = parseCommandLine(command, argv, {
    os: { type: 'string' },
    release: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help === true) {
    io.stdout.write(CHECK_USAGE);
    return EX_OK;
  }
  if (positionals.length === 0) throw new UsageError(`${command}: give a SPEC.yaml, or --os TARGET and files`, `try '${command} --help'`);
  let findings: Finding[];
  if (values.os !== undefined) {
    const family = parseFamily(command, values.os);
    const release = parseRelease(command, values.release);
    const facts = [];
    const unknown: string[] = [];
    for (const f of positionals) {
      const text = await readText(io, f);
      const verdict = judgeKind(f, text, family);
      if (verdict.kind === undefined) unknown.push(`${f}: ${verdict.why}`);
      else facts.push(parseFile(f, text, { kind: verdict.kind, ...(release === undefined ? {} : { release }) }));
    }
    // A file of no kind we know is refused, not passed as clean.
    if (unknown.length > 0) {
      for (const u of unknown) io.stderr.write(`${command}: ${u}\n`);
      return EX_DATAERR;
    }
    findings = analyze(facts);
  } else {
    findings = [];
    for (const f of positionals) {
      const text = await readText(io, f);
      refuseSystemFile(command, f, text);
      findings.push(...lintSpec(parseSpec(netSpecSchema, text, f), text, f));
    }
  }
  for (const f of findings) io.stdout.write(`${formatFinding(f)}\n`);
  io.stderr.write(findings.length === 0 ? 'moat net check: no problems found\n' : `moat net check: ${String(findings.length)} problem${findings.length === 1 ? '' : 's'}\n`);
  return findings.length === 0 ? EX_OK : EX_FAIL;
}
