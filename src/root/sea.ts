// `moat root sea`: moat as one executable, a Node single executable
// application (https://nodejs.org/api/single-executable-applications.html):
// esbuild bundles the CLI to one CommonJS file, `node --experimental-sea-config`
// turns it into a blob, and postject injects the blob into a copy of node.
// esbuild and postject are development dependencies, so this works from a
// checkout (after `npm ci`), not from an installed package.
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MoatError, UsageError, lazyChildProcess, parseCommandLine, type Io } from '../core/index.js';

/**
 * The fuse postject flips so node runs the injected blob (from Node's SEA
 * docs). Kept in pieces: this file is itself bundled into the blob, and
 * postject refuses a binary in which the sentinel appears twice.
 */
const SEA_FUSE = ['NODE', 'SEA', 'FUSE', 'fce680ab2cc467b6e072b8b5df1996b2'].join('_');

export interface SeaOptions {
  /** The compiled CLI entry, e.g. dist/bin/moat.js. */
  entry: string;
  out: string;
  /** The node binary to copy; defaults to the one running. */
  node?: string;
  /** Run strip(1) on the copy of node first: Debian's node carries ~13 MB of symbols. */
  strip?: boolean;
}

export interface SeaResult {
  out: string;
  bytes: number;
  bundleBytes: number;
}

function run(cmd: string, args: string[], cwd: string): Promise<void> {
  return new Promise((res, rej) => {
    const child = lazyChildProcess().spawn(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], shell: false });
    let err = '';
    child.stderr.on('data', (c: Buffer) => {
      if (err.length < 8192) err += c.toString('utf8');
    });
    child.on('error', (e) => {
      rej(new MoatError('MOAT_ROOT_SEA', `${cmd}: ${e.message}`));
    });
    child.on('close', (code) => {
      if (code === 0) res();
      else rej(new MoatError('MOAT_ROOT_SEA_BUILD', `${[cmd, ...args].join(' ')} failed (${String(code)}): ${err.trim().split('\n').slice(-3).join(' / ')}`));
    });
  });
}

/** Matches `readFileSync(new URL('../../package.json', import.meta.url), 'utf8')`. */
const PACKAGE_READ = /readFileSync\(\s*new URL\(\s*(['"])\.\.\/\.\.\/package\.json\1\s*,\s*import\.meta\.url\s*\)\s*,\s*(['"])utf8\2\s*\)/g;

/**
 * The CLI entry reads its version from ../../package.json beside it, through
 * import.meta.url, which a CommonJS bundle does not have and a root does not
 * hold. This esbuild plugin puts the file's text in the bundle instead.
 */
function inlinePackageJson(entry: string): import('esbuild').Plugin {
  const entryPath = resolve(entry);
  return {
    name: 'moat-inline-package-json',
    setup(build) {
      build.onLoad({ filter: /\.js$/ }, (args) => {
        if (args.path !== entryPath) return undefined;
        const text = readFileSync(args.path, 'utf8');
        let pkg: string;
        try {
          pkg = readFileSync(join(dirname(args.path), '..', '..', 'package.json'), 'utf8');
        } catch {
          return undefined;
        }
        return { contents: text.replace(PACKAGE_READ, JSON.stringify(pkg)), loader: 'js' };
      });
    },
  };
}

export async function buildSea(opts: SeaOptions): Promise<SeaResult> {
  const require = createRequire(import.meta.url);
  let postject: string;
  let esbuild: typeof import('esbuild');
  try {
    postject = require.resolve('postject/dist/cli.js');
    esbuild = await import('esbuild');
  } catch {
    throw new MoatError('MOAT_ROOT_SEA', 'building a single executable needs the esbuild and postject development dependencies (npm ci in a checkout)');
  }
  const work = mkdtempSync(join(tmpdir(), 'moat-sea-'));
  try {
    const bundle = join(work, 'moat.cjs');
    // No top-level await in bin/moat.ts, so CommonJS works; SEA's require() only loads built-ins, so bundle everything.
    await esbuild.build({
      entryPoints: [opts.entry],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      outfile: bundle,
      logLevel: 'error',
      legalComments: 'none',
      // Less to read at every start (about 4 ms here); identifiers are kept,
      // so names in messages and MOAT_DEBUG stacks stay readable.
      minifyWhitespace: true,
      minifySyntax: true,
      external: ['esbuild', 'postject'],
      plugins: [inlinePackageJson(opts.entry)],
    });
    const config = join(work, 'sea-config.json');
    const blob = join(work, 'sea-prep.blob');
    writeFileSync(config, JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true }));
    const node = opts.node ?? process.execPath;
    await run(node, ['--experimental-sea-config', config], work);
    const out = resolve(opts.out);
    const tmpOut = `${out}.tmp-${String(process.pid)}`;
    try {
      copyFileSync(node, tmpOut);
      chmodSync(tmpOut, 0o755);
      if (opts.strip === true) await run('strip', [tmpOut], work);
      await run(node, [postject, tmpOut, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE], work);
      renameSync(tmpOut, out);
    } catch (e) {
      rmSync(tmpOut, { force: true });
      throw e;
    }
    return { out, bytes: statSync(out).size, bundleBytes: statSync(bundle).size };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The compiled CLI entry beside this file: <dist>/src/root/sea.js → <dist>/bin/moat.js. */
export function defaultEntry(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'moat.js');
}

export const SEA_USAGE = `usage: moat root sea --out FILE [--entry JS] [--node BINARY] [--strip]

Build moat as one executable (a Node single executable application):
bundle the CLI with esbuild to CommonJS, make the SEA blob with
node --experimental-sea-config, and inject it into a copy of node with
postject. Needs a checkout with development dependencies installed.
Then 'moat root build --root DIR FILE' gives it a root of its own.

  --out FILE      where to write the executable
  --entry JS      the compiled CLI to bundle (default: this moat's bin/moat.js)
  --node BINARY   the node to copy (default: the one running)
  --strip         strip(1) the copy of node before injecting (smaller)
`;

export async function seaMain(argv: readonly string[], io: Io): Promise<number> {
  const { values } = parseCommandLine('moat root sea', argv, { out: { type: 'string' }, entry: { type: 'string' }, node: { type: 'string' }, strip: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, false);
  if (values.help === true) {
    io.stdout.write(SEA_USAGE);
    return 0;
  }
  if (values.out === undefined) throw new UsageError('moat root sea: --out FILE is required', "try 'moat root sea --help'");
  const r = await buildSea({ entry: resolve(io.cwd, values.entry ?? defaultEntry()), out: resolve(io.cwd, values.out), ...(values.node === undefined ? {} : { node: values.node }), strip: values.strip === true });
  io.stdout.write(`moat root sea: ${r.out}: ${(r.bytes / 1e6).toFixed(1)} MB (bundle ${(r.bundleBytes / 1e3).toFixed(0)} kB)\n`);
  return 0;
}
