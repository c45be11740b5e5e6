// `moat jail render SPEC --out DIR [--os freebsd|linux|all]` and
// `moat jail check SPEC`: load and validate the spec, render everything in
// memory, and only then write (render) or say nothing (check).
import { EX_OK, errnoReason, isErrnoException, MoatError, parseCommandLine, UsageError, writeFilesAtomically, type Io } from '../core/index.js';
import { loadSpec } from '../core/spec-loader.js';
import { planDeployment, type DeploymentPlan } from './deployment-plan.js';
import { renderDeployment, TARGET_OSES, type RenderedFile, type TargetOs } from './render-deployment.js';
import { jailSpecSchema } from './spec-schema.js';

export const RENDER_USAGE = 'usage: moat jail render [--os freebsd|linux|all] --out DIR SPEC.yaml\n';
export const CHECK_USAGE = 'usage: moat jail check SPEC.yaml\n';

/** Load, validate and render a spec file; throws a SourceSyntaxError naming the field on a bad spec. */
export async function renderSpecFile(file: string, oses: readonly TargetOs[] = TARGET_OSES): Promise<{ plan: DeploymentPlan; files: RenderedFile[] }> {
  const spec = await loadSpec(jailSpecSchema, file);
  const plan = planDeployment(spec);
  return { plan, files: renderDeployment(plan, oses) };
}

function parseOs(command: string, value: string | undefined): readonly TargetOs[] {
  if (value === undefined || value === 'all') return TARGET_OSES;
  if (value === 'freebsd' || value === 'linux') return [value];
  throw new UsageError(`${command}: --os wants freebsd, linux or all, not '${value}'`, `try '${command} --help'`);
}

function onePositional(command: string, positionals: readonly string[]): string {
  const [file, extra] = positionals;
  if (file === undefined) throw new UsageError(`${command}: a spec file is needed`, `try '${command} --help'`);
  if (extra !== undefined) throw new UsageError(`${command}: one spec file only, not also '${extra}'`, `try '${command} --help'`);
  return file;
}

export async function renderMain(argv: readonly string[], io: Io): Promise<number> {
  const command = 'moat jail render';
  const { values, positionals } = parseCommandLine(command, argv, {
    out: { type: 'string', short: 'o' },
    os: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help === true) {
    io.stdout.write(RENDER_USAGE);
    io.stdout.write('  --out DIR   write the files under DIR (freebsd/..., linux/...)\n');
    io.stdout.write('  --os OS     freebsd, linux or all (the default)\n');
    io.stdout.write('Validates the whole spec first; on an error nothing is written. See moat-jail(8).\n');
    return EX_OK;
  }
  const file = onePositional(command, positionals);
  if (values.out === undefined || values.out === '') throw new UsageError(`${command}: --out DIR is needed`, `try '${command} --help'`);
  const oses = parseOs(command, values.os);
  const { files } = await renderSpecFile(file, oses);
  let written: string[];
  try {
    written = await writeFilesAtomically(values.out, files);
  } catch (e) {
    if (!isErrnoException(e)) throw e;
    throw new MoatError('MOAT_JAIL_WRITE', `cannot write under ${values.out}: ${errnoReason(e)}${e.path === undefined ? '' : ` (${e.path})`}`, { cause: e });
  }
  for (const w of written) io.stdout.write(`${w}\n`);
  return EX_OK;
}

export async function checkMain(argv: readonly string[], io: Io): Promise<number> {
  const command = 'moat jail check';
  const { values, positionals } = parseCommandLine(command, argv, { help: { type: 'boolean', short: 'h' } });
  if (values.help === true) {
    io.stdout.write(CHECK_USAGE);
    io.stdout.write('Validates SPEC.yaml and renders it in memory; silent and exit 0 when it is good.\n');
    return EX_OK;
  }
  await renderSpecFile(onePositional(command, positionals));
  return EX_OK;
}
