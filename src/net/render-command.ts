// `moat net render` and `moat net check`: the command-line side.
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { EX_OK, MoatError, UsageError, errorMessage, parseCommandLine, writeFilesAtomically, type Io } from '../core/index.js';
import { loadSpec, parseSpec } from '../core/spec-loader.js';
import { analyze } from './lint-analyze.js';
import { parseFile } from './lint-parse.js';
import { formatFinding, type Finding } from './lint-rules.js';
import { lintSpec } from './lint-spec.js';
import { renderSpec } from './render.js';
import { TARGETS, type Target } from './render-types.js';
import { netSpecSchema } from './spec-schema.js';

export const RENDER_USAGE = `usage: moat net render SPEC.yaml --os TARGET --out DIR [--release R] [--guest NAME]...
  TARGET: ${TARGETS.join(' ')}
  Writes each machine's files under DIR/MACHINE/…; --guest renders the named
  guests in TARGET's form whatever their own OS; --release picks the
  OpenBSD/NetBSD form (OpenBSD: -cloning up to 5.9, -llinfo from 6.0).
`;
export const CHECK_USAGE = `usage: moat net check SPEC.yaml...
       moat net check --os TARGET FILE...
  Lint a spec, or hand-written files (hostname.if, ifconfig.if, route.conf,
  rc.conf, pf.conf, ipsec.conf, npppd.conf, sysctl.conf, interfaces, netplan
  YAML, .network, swanctl.conf, shell scripts). Exit 1 when a rule fires.
`;

/** Files larger than this are not network configuration. */
const MAX_FILE = 4 * 1024 * 1024;

function parseTarget(command: string, value: string | undefined): Target {
  if (value === undefined) throw new UsageError(`${command}: --os is required`, `try '${command} --help'`);
  const t = TARGETS.find((x) => x === value);
  if (t === undefined) throw new UsageError(`${command}: --os must be one of ${TARGETS.join(', ')}, not '${value}'`, `try '${command} --help'`);
  return t;
}

export async function renderMain(argv: readonly string[], io: Io): Promise<number> {
  const command = 'moat net render';
  const { values, positionals } = parseCommandLine(command, argv, {
    os: { type: 'string' },
    out: { type: 'string' },
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
  if (values.out === undefined) throw new UsageError(`${command}: --out DIR is required`, `try '${command} --help'`);
  if (values.release !== undefined && !/^\d{1,2}\.\d{1,2}$/.test(values.release)) {
    throw new UsageError(`${command}: --release wants a release such as 5.9 or 7.6, not '${values.release}'`, `try '${command} --help'`);
  }
  const spec = await loadSpec(netSpecSchema, resolve(io.cwd, specFile));
  const result = renderSpec(spec, {
    target,
    ...(values.release === undefined ? {} : { release: values.release }),
    ...(values.guest === undefined ? {} : { guests: values.guest }),
  });
  for (const w of result.warnings) io.stderr.write(`moat net: warning: ${w}\n`);
  const written = await writeFilesAtomically(resolve(io.cwd, values.out), result.files);
  for (const p of written) io.stdout.write(`${p}\n`);
  return EX_OK;
}

async function readText(io: Io, file: string): Promise<string> {
  const path = resolve(io.cwd, file);
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new MoatError('MOAT_NET_READ', `${file}: not a regular file`);
    if (st.size > MAX_FILE) throw new MoatError('MOAT_NET_TOO_BIG', `${file}: larger than ${String(MAX_FILE)} bytes`);
    return await readFile(path, 'utf8');
  } catch (e) {
    if (e instanceof MoatError) throw e;
    throw new MoatError('MOAT_NET_READ', `cannot read ${file}: ${errorMessage(e)}`, { cause: e });
  }
}

export async function checkMain(argv: readonly string[], io: Io): Promise<number> {
  const command = 'moat net check';
  const { values, positionals } = parseCommandLine(command, argv, { os: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
  if (values.help === true) {
    io.stdout.write(CHECK_USAGE);
    return EX_OK;
  }
  if (positionals.length === 0) throw new UsageError(`${command}: give a SPEC.yaml, or --os TARGET and files`, `try '${command} --help'`);
  let findings: Finding[];
  if (values.os !== undefined) {
    const target = parseTarget(command, values.os);
    const facts = [];
    for (const f of positionals) facts.push(parseFile(f, await readText(io, f), target));
    findings = analyze(facts);
  } else {
    findings = [];
    for (const f of positionals) {
      const text = await readText(io, f);
      findings.push(...lintSpec(parseSpec(netSpecSchema, text, f), text, f));
    }
  }
  for (const f of findings) io.stdout.write(`${formatFinding(f)}\n`);
  io.stderr.write(findings.length === 0 ? 'moat net check: no problems found\n' : `moat net check: ${String(findings.length)} problem${findings.length === 1 ? '' : 's'}\n`);
  return findings.length === 0 ? EX_OK : 1;
}
