/**
 * `moat ifstated [-dhinv] [-D macro=value] [-f file] [--strict]` and its
 * subcommands check, simulate, graph and multiwan. Flags and exit codes of
 * the daemon follow ifstated(8): -n prints "configuration OK" and exits 0,
 * or the errors and exits 1.
 */
import { readFile } from 'node:fs/promises';
import {
  EX_CONFIG,
  EX_OK,
  Logger,
  MoatError,
  UsageError,
  intOption,
  errnoReason,
  parseCommandLine,
  writeFilesAtomically,
  type Io } from '../core/index.js';
import { loadSpec } from '../core/spec-loader.js';
import { analyse } from './check.js';
import { checkConfigText, formatDiagnostic, hostInterfaceExists, loadConfigFile } from './config.js';
import { Daemon } from './daemon.js';
import { dotToSvg, toDot } from './graph.js';
import { parseListen } from './metrics.js';
import { generateMultiwan } from './multiwan.js';
import { simulate } from './simulate.js';

const USAGE = `usage: moat ifstated [-dhinv] [-D macro=value] [-f file] [--strict]
                    [--metrics host:port] [--log-format text|json] [--syslog url]
                    [--run-timeout secs] [--reconcile secs]
       moat ifstated check [-D macro=value] [-f file] [--strict]
       moat ifstated simulate [-D macro=value] [-f file] events-file
       moat ifstated graph [-f file] [-o out.dot|out.svg] [--svg]
       moat ifstated multiwan [-o dir] spec.yaml

  -d            stay in the foreground, log to stderr
  -f file       configuration (default /etc/ifstated.conf)
  -D m=v        define macro m, overriding the file
  -i            ignore the initial link states and test results
  -n            check the configuration and exit
  -v            log link and test changes; -vv each test run
  --strict      OpenBSD's rules exactly: final newline required, unknown
                interfaces are errors, no moat extensions
  --metrics h:p serve Prometheus text on http://h:p/metrics
See moat-ifstated(8).
`;

const DEFAULT_CONF = '/etc/ifstated.conf';

function defines(list: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of list ?? []) {
    // cmdline_symset(): the value follows the last '='.
    const eq = d.lastIndexOf('=');
    if (eq <= 0) throw new UsageError(`moat ifstated: could not parse macro definition ${d}`, "try 'moat ifstated --help'");
    out[d.slice(0, eq)] = d.slice(eq + 1);
  }
  return out;
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    const why = errnoReason(e);
    throw new MoatError('MOAT_IFSTATED_READ', `cannot read ${file}: ${why}`, { cause: e });
  }
}

async function checkCommand(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandLine(
    'moat ifstated check',
    argv,
    { file: { type: 'string', short: 'f' }, define: { type: 'string', short: 'D', multiple: true }, strict: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    true,
  );
  if (values.help === true) {
    io.stdout.write('usage: moat ifstated check [-D macro=value] [-f file] [--strict] [file]\n');
    return EX_OK;
  }
  const file = values.file ?? positionals[0] ?? DEFAULT_CONF;
  const source = await readText(file);
  const loaded = checkConfigText(source, { file, defines: defines(values.define), strict: values.strict === true, interfaceExists: () => true });
  const findings = analyse(loaded);
  for (const d of findings) io.stdout.write(`${formatDiagnostic(d, loaded.config)}\n`);
  const errors = findings.filter((d) => d.severity === 'error').length;
  const warnings = findings.length - errors;
  io.stdout.write(`${file}: ${String(errors)} error(s), ${String(warnings)} warning(s)\n`);
  return findings.length === 0 ? EX_OK : 1;
}

async function simulateCommand(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandLine(
    'moat ifstated simulate',
    argv,
    { file: { type: 'string', short: 'f' }, define: { type: 'string', short: 'D', multiple: true }, help: { type: 'boolean', short: 'h' } },
    true,
  );
  if (values.help === true) {
    io.stdout.write('usage: moat ifstated simulate [-D macro=value] [-f file] events-file\n');
    return EX_OK;
  }
  const script = positionals[0];
  if (script === undefined || positionals.length > 1) throw new UsageError('moat ifstated simulate: wants one events file', "try 'moat ifstated simulate --help'");
  const file = values.file ?? DEFAULT_CONF;
  const loaded = checkConfigText(await readText(file), { file, defines: defines(values.define), interfaceExists: () => true });
  if (loaded.failed) {
    for (const d of loaded.diagnostics) io.stderr.write(`${formatDiagnostic(d, loaded.config)}\n`);
    return 1;
  }
  const result = simulate(loaded.config, await readText(script), script);
  io.stdout.write(`${result.lines.join('\n')}\n`);
  return result.failedExpectations === 0 ? EX_OK : 1;
}

async function graphCommand(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandLine(
    'moat ifstated graph',
    argv,
    { file: { type: 'string', short: 'f' }, output: { type: 'string', short: 'o' }, svg: { type: 'boolean' }, define: { type: 'string', short: 'D', multiple: true }, help: { type: 'boolean', short: 'h' } },
    true,
  );
  if (values.help === true) {
    io.stdout.write('usage: moat ifstated graph [-f file] [-o out.dot|out.svg] [--svg]\n');
    return EX_OK;
  }
  const file = values.file ?? positionals[0] ?? DEFAULT_CONF;
  const loaded = checkConfigText(await readText(file), { file, defines: defines(values.define), interfaceExists: () => true });
  // A graph of a broken config is still useful (it shows the undeclared target), so only syntax errors stop it.
  for (const d of loaded.diagnostics) if (d.severity === 'error') io.stderr.write(`${formatDiagnostic(d, loaded.config)}\n`);
  const dot = toDot(loaded.config);
  const wantSvg = values.svg === true || (values.output?.endsWith('.svg') ?? false);
  let text = dot;
  if (wantSvg) {
    const svg = await dotToSvg(dot);
    if (svg === undefined) throw new MoatError('MOAT_IFSTATED_NO_DOT', 'SVG needs dot(1) from Graphviz, which is not installed; use DOT output');
    text = svg;
  }
  if (values.output === undefined) io.stdout.write(text);
  else await writeFilesAtomically(io.cwd, [{ path: values.output, content: text }]);
  return EX_OK;
}

async function multiwanCommand(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandLine('moat ifstated multiwan', argv, { output: { type: 'string', short: 'o' }, help: { type: 'boolean', short: 'h' } }, true);
  if (values.help === true) {
    io.stdout.write('usage: moat ifstated multiwan [-o dir] spec.yaml\n  without -o, prints the generated ifstated.conf\n');
    return EX_OK;
  }
  const specFile = positionals[0];
  if (specFile === undefined || positionals.length > 1) throw new UsageError('moat ifstated multiwan: wants one spec file', "try 'moat ifstated multiwan --help'");
  // zod is loaded only here, so the daemon does not carry it.
  const { multiwanSchema } = await import('./multiwan-spec.js');
  const spec = await loadSpec(multiwanSchema, specFile);
  const files = generateMultiwan(spec, specFile);
  // The generated config must itself parse (strict unless it uses extensions).
  const conf = files[0];
  if (conf !== undefined) {
    const check = checkConfigText(conf.content, { file: 'ifstated.conf', interfaceExists: () => true });
    if (check.failed) throw new MoatError('MOAT_IFSTATED_GENERATED', `generated config does not parse: ${check.diagnostics[0]?.message ?? ''}`);
  }
  if (values.output === undefined) {
    io.stdout.write(conf?.content ?? '');
    return EX_OK;
  }
  const written = await writeFilesAtomically(values.output, files);
  for (const w of written) io.stdout.write(`${w}\n`);
  return EX_OK;
}

async function daemonCommand(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandLine(
    'moat ifstated',
    argv,
    {
      debug: { type: 'boolean', short: 'd' },
      help: { type: 'boolean', short: 'h' },
      inhibit: { type: 'boolean', short: 'i' },
      noaction: { type: 'boolean', short: 'n' },
      verbose: { type: 'boolean', short: 'v', multiple: true },
      define: { type: 'string', short: 'D', multiple: true },
      file: { type: 'string', short: 'f' },
      strict: { type: 'boolean' },
      metrics: { type: 'string' },
      'log-format': { type: 'string' },
      syslog: { type: 'string' },
      'run-timeout': { type: 'string' },
      reconcile: { type: 'string' },
    },
    true,
  );
  if (values.help === true) {
    io.stdout.write(USAGE);
    return EX_OK;
  }
  if (positionals.length > 0) throw new UsageError(`moat ifstated: unexpected argument '${positionals[0] ?? ''}'`, "try 'moat ifstated --help'");
  const file = values.file ?? DEFAULT_CONF;
  const strict = values.strict === true;
  const defs = defines(values.define);
  if (values.noaction === true) {
    const loaded = await loadConfigFile(file, { defines: defs, strict, interfaceExists: hostInterfaceExists });
    for (const d of loaded.diagnostics) io.stderr.write(`${formatDiagnostic(d, loaded.config)}\n`);
    if (loaded.failed) return 1;
    io.stdout.write('configuration OK\n');
    return EX_OK;
  }
  const format = values['log-format'] ?? 'text';
  if (format !== 'text' && format !== 'json') throw new UsageError(`moat ifstated: --log-format is text or json, not '${format}'`, "try 'moat ifstated --help'");
  const verbose = values.verbose?.length ?? 0;
  // Without -d ifstated logs to syslog; moat never forks, so it logs to
  // --syslog when given, and to stderr otherwise (for service managers).
  const logger = new Logger({
    appName: 'ifstated',
    format,
    level: verbose >= 2 ? 'debug' : 'info',
    ...(values.syslog === undefined ? {} : { syslog: values.syslog }),
    ...(values.debug === true || values.syslog === undefined ? { stderr: io.stderr } : {}),
  });
  const daemon = new Daemon({
    file,
    defines: defs,
    strict,
    inhibit: values.inhibit === true,
    verbose,
    logger,
    runTimeoutMs: intOption('moat ifstated', 'run-timeout', values['run-timeout'], 60, { min: 1, max: 86400 }) * 1000,
    reconcileMs: intOption('moat ifstated', 'reconcile', values.reconcile, 30, { min: 1, max: 86400 }) * 1000,
    monitor: process.platform === 'linux' ? 'linux' : 'bsd',
    ...(values.metrics === undefined ? {} : { metrics: parseListen(values.metrics) }),
  });
  let ok: boolean;
  try {
    ok = await daemon.start();
  } catch (e) {
    await daemon.stop();
    await logger.close();
    throw e;
  }
  if (!ok) {
    await daemon.stop();
    await logger.close();
    return EX_CONFIG;
  }
  const signal = await new Promise<string>((resolve) => {
    const onSig = (s: string): void => {
      process.off('SIGTERM', onSig);
      process.off('SIGINT', onSig);
      resolve(s);
    };
    process.on('SIGTERM', onSig);
    process.on('SIGINT', onSig);
  });
  logger.info(`exiting on ${signal}`);
  await daemon.stop();
  await logger.close();
  return EX_OK;
}

export async function main(argv: readonly string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'check':
      return checkCommand(rest, io);
    case 'simulate':
      return simulateCommand(rest, io);
    case 'graph':
      return graphCommand(rest, io);
    case 'multiwan':
      return multiwanCommand(rest, io);
    default:
      if (sub !== undefined && !sub.startsWith('-')) throw new UsageError(`moat ifstated: unknown subcommand '${sub}'`, "try 'moat ifstated --help'");
      return daemonCommand(argv, io);
  }
}

