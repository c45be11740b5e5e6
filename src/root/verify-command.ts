// `moat root verify`: drift from the manifest, setuid files, world-writable
// entries, device nodes. Exit 0 when clean, 1 when something was found.
import { lstatSync } from 'node:fs';
import { posix } from 'node:path';
import { MoatError, UsageError, parseCommandLine, type Io } from '../core/index.js';
import { loadManifest, shown, verifyRoot } from './manifest.js';

export const VERIFY_USAGE = `usage: moat root verify --root DIR [--manifest FILE] [--json]

Compare DIR with the manifest 'moat root build --manifest' wrote: files
missing, added or changed, modes and symlink targets. With or without a
manifest, report setuid/setgid files, world-writable files and directories,
and device nodes, FIFOs and sockets. Exit 0 when clean, 1 when not.
`;

export function verifyMain(argv: readonly string[], io: Io): Promise<number> {
  const { values } = parseCommandLine(
    'moat root verify',
    argv,
    { root: { type: 'string' }, manifest: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    false,
  );
  if (values.help === true) {
    io.stdout.write(VERIFY_USAGE);
    return Promise.resolve(0);
  }
  if (values.root === undefined) throw new UsageError('moat root verify: --root DIR is required', "try 'moat root verify --help'");
  const root = posix.resolve(io.cwd, values.root);
  let st;
  try {
    st = lstatSync(root);
  } catch {
    throw new MoatError('MOAT_ROOT_NO_ROOT', `${root}: no such directory`);
  }
  if (!st.isDirectory()) throw new MoatError('MOAT_ROOT_NO_ROOT', `${root}: not a directory`);
  const manifest = values.manifest === undefined ? undefined : loadManifest(posix.resolve(io.cwd, values.manifest));
  const findings = verifyRoot(root, manifest);
  if (values.json === true) io.stdout.write(`${JSON.stringify(findings, null, 1)}\n`);
  else for (const f of findings) io.stdout.write(`${f.kind}: ${shown(f.path)}: ${f.detail}\n`);
  if (values.json !== true) io.stderr.write(`moat root verify: ${root}: ${findings.length === 0 ? 'clean' : `${findings.length} finding${findings.length === 1 ? '' : 's'}`}\n`);
  return Promise.resolve(findings.length === 0 ? 0 : 1);
}
