// moat's native addon (native/moat-native.c): chroot(2), jail_attach(2),
// PR_SET_NO_NEW_PRIVS and posix_spawn(3), which Node has no binding for.
// It is optional: `npm ci` builds it when a C compiler is present, and a tool
// that can do without it asks loadNative() and takes another way when it
// returns undefined; one that cannot (moat finger --chroot) says how to build
// it with nativeMissingMessage(); requireNative() fails with EX_UNAVAILABLE.
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MoatError } from './errors.js';

/** How a child ended, as reap() tells it. */
export interface NativeStatus {
  code?: number;
  signal?: number;
}

/** The addon's functions. Each failing system call throws an errno error naming it (`syscall`, `errno`, `code`). */
export interface NativeAddon {
  chroot(path: string): void;
  chdir(path: string): void;
  /** PR_SET_NO_NEW_PRIVS (Linux), PROC_NO_NEW_PRIVS_CTL (FreeBSD 14+); false where the system has none. */
  noNewPrivs(): boolean;
  /** FreeBSD jail_attach(2); elsewhere throws ENOSYS. */
  jailAttach(jid: number): void;
  /** FreeBSD: the id of the jail called `name` (jail_get(2)); elsewhere throws ENOSYS. */
  jailId(name: string): number;
  /** posix_spawn(3) `file` (PATH-searched without a slash) with `argv`: own process group, stdio on /dev/null. Returns the pid. */
  spawn(file: string, argv: readonly string[]): number;
  /** Has child `pid` ended? Leaves it a zombie (its pid and group id stay reserved) until reap(). */
  exited(pid: number): boolean;
  /** Reap child `pid`: undefined while it runs. */
  reap(pid: number): NativeStatus | undefined;
}

/** The addon's file name, in dist/native/ of a checkout or beside the single executable. */
export const NATIVE_FILE = 'moat-native.node';

/** The command that builds it in a checkout. */
export const NATIVE_BUILD = 'npm run build:native';

/**
 * Where the addon is looked for: $MOAT_NATIVE when set (only there); else
 * <dist>/native/ of this build; in the single executable (no import.meta.url
 * in its CommonJS bundle) beside the executable.
 */
export function nativeCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  const override = env.MOAT_NATIVE;
  if (override !== undefined && override !== '') return [override];
  // The esbuild CommonJS bundle turns import.meta into {}.
  const url = (import.meta as { url?: string }).url;
  if (typeof url === 'string' && url.startsWith('file:')) return [join(dirname(fileURLToPath(url)), '..', '..', 'native', NATIVE_FILE)];
  return [join(dirname(process.execPath), NATIVE_FILE)];
}

const errnoNames = new Map<number, string>(Object.entries(constants.errno).map(([name, n]) => [n, name]));

/** Give the addon's errors Node's shape: `code` is the errno's name (ENOENT), as fs errors have it. */
function withCodes(raw: NativeAddon): NativeAddon {
  const wrap =
    <A extends unknown[], R>(f: (...a: A) => R) =>
    (...a: A): R => {
      try {
        return f(...a);
      } catch (e) {
        if (e instanceof Error) {
          const err = e as NodeJS.ErrnoException;
          if (typeof err.errno === 'number' && err.code === undefined) err.code = errnoNames.get(err.errno) ?? `errno ${String(err.errno)}`;
        }
        throw e;
      }
    };
  return {
    chroot: wrap(raw.chroot.bind(raw)),
    chdir: wrap(raw.chdir.bind(raw)),
    noNewPrivs: wrap(raw.noNewPrivs.bind(raw)),
    jailAttach: wrap(raw.jailAttach.bind(raw)),
    jailId: wrap(raw.jailId.bind(raw)),
    spawn: wrap(raw.spawn.bind(raw)),
    exited: wrap(raw.exited.bind(raw)),
    reap: wrap(raw.reap.bind(raw)),
  };
}

interface Loaded {
  addon: NativeAddon | undefined;
  /** Why it is missing: each place tried, and what went wrong there. */
  tried: string[];
}

let loaded: Loaded | undefined;

/** Load the addon once; undefined when it is missing or does not load (nativeMissingMessage() says why). */
export function loadNative(): NativeAddon | undefined {
  loaded ??= loadFrom(nativeCandidates());
  return loaded.addon;
}

/** For tests: load the addon from these paths, not cached. */
export function loadNativeFrom(paths: readonly string[]): Loaded {
  return loadFrom(paths);
}

function loadFrom(paths: readonly string[]): Loaded {
  const tried: string[] = [];
  for (const file of paths) {
    const module = { exports: {} as Partial<NativeAddon> };
    try {
      // process.dlopen works from ES modules and from the single executable,
      // whose require() loads only built-ins.
      process.dlopen(module, file);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      // dlopen's own message usually starts with the file's name already.
      const why = err.code === 'ERR_DLOPEN_FAILED' || err.code === undefined ? (err.message.split('\n')[0] ?? '') : err.code;
      tried.push(why.startsWith(`${file}: `) ? why : `${file}: ${why}`);
      continue;
    }
    const x = module.exports;
    const names = ['chroot', 'chdir', 'noNewPrivs', 'jailAttach', 'jailId', 'spawn', 'exited', 'reap'] as const;
    const missing = names.filter((n) => typeof x[n] !== 'function');
    if (missing.length > 0) {
      tried.push(`${file}: not moat's addon, or an old one (no ${missing.join(', ')}); rebuild it`);
      continue;
    }
    return { addon: withCodes(x as NativeAddon), tried };
  }
  return { addon: undefined, tried };
}

/** Why the addon is missing and how to build it, for `what` (e.g. "--chroot"). */
export function nativeMissingMessage(what: string): string {
  loadNative();
  const why = loaded?.tried.join('; ') ?? '';
  return (
    `${what} needs moat's native addon ${NATIVE_FILE}, which did not load (${why}). ` +
    `Build it with '${NATIVE_BUILD}' in moat's checkout (needs a C compiler: Debian gcc libc6-dev), ` +
    `or put ${NATIVE_FILE} beside the moat executable, or name it with MOAT_NATIVE`
  );
}

/** The addon, or a MoatError (EX_UNAVAILABLE) that says how to build it. */
export function requireNative(what: string): NativeAddon {
  const addon = loadNative();
  if (addon !== undefined) return addon;
  throw new MoatError('MOAT_NATIVE_MISSING', nativeMissingMessage(what));
}
