// `moat root run`: run a command inside a root, as an unprivileged user, with
// a clean environment. With bubblewrap (bwrap(1)) the root is bound read-only
// entry by entry onto bwrap's own tmpfs, so /proc, /dev and /tmp can be
// mounted without writing into the root; the drop to the user happens first,
// with setpriv(1), and bwrap then runs in an unprivileged user namespace.
// Without bwrap: chroot(8) --userspec, which needs root.
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { posix } from 'node:path';
import { MoatError, UsageError, lazyChildProcess, parseCommandLine, type Io } from '../core/index.js';

export const RUN_USAGE = `usage: moat root run --root DIR [--user U[:G]] [--method auto|bwrap|chroot]
                     [--env NAME=VALUE]... [--writable] -- CMD [ARG...]

Run CMD (a path inside DIR) with DIR as its root directory, as user U
(default nobody), with only PATH, HOME and the --env variables set.
bwrap is used when installed (read-only root, private /proc, /dev, /tmp,
pid and IPC namespaces, host network); otherwise chroot, which needs root.
The exit status is CMD's.
`;

const PATH = '/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin';

export interface RunOptions {
  root: string;
  cmd: readonly string[];
  user?: string;
  method?: 'auto' | 'bwrap' | 'chroot';
  env?: Readonly<Record<string, string>>;
  /** Bind the root read-write (bwrap); chroot is always as writable as the files are. */
  writable?: boolean;
}

/** Turn `name`, `uid`, `uid:gid` or `name:group` into numbers using the host's passwd and group files. */
export function resolveUser(spec: string): { uid: number; gid: number } {
  const [u = '', g] = spec.split(':');
  const passwd = readLines('/etc/passwd');
  let uid: number | undefined;
  let gid: number | undefined;
  if (/^\d+$/.test(u)) uid = Number(u);
  else {
    const f = passwd.find((l) => l[0] === u);
    if (f !== undefined) {
      uid = Number(f[2]);
      gid = Number(f[3]);
    }
  }
  if (g !== undefined) {
    if (/^\d+$/.test(g)) gid = Number(g);
    else gid = ((x) => (x === undefined ? undefined : Number(x[2])))(readLines('/etc/group').find((l) => l[0] === g));
  }
  if (uid === undefined && u === 'nobody') uid = 65534;
  gid ??= uid === 65534 ? 65534 : uid;
  if (uid === undefined || gid === undefined || !Number.isInteger(uid) || !Number.isInteger(gid)) {
    throw new MoatError('MOAT_ROOT_NO_USER', `no such user or group: ${spec}`);
  }
  return { uid, gid };
}

function readLines(file: string): string[][] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .map((l) => l.split(':'));
  } catch {
    return [];
  }
}

function have(cmd: string): string | undefined {
  return ['/usr/bin', '/bin', '/usr/sbin', '/sbin', '/usr/local/bin'].map((d) => `${d}/${cmd}`).find((p) => existsSync(p));
}

/** The argv that runs opts.cmd inside the root. */
export function runArgv(opts: RunOptions): string[] {
  const root = posix.resolve(opts.root);
  if (!lstatSync(root).isDirectory()) throw new MoatError('MOAT_ROOT_NO_ROOT', `${root}: not a directory`);
  const { uid, gid } = resolveUser(opts.user ?? 'nobody');
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const bwrap = have('bwrap');
  const setpriv = have('setpriv');
  let method = opts.method ?? 'auto';
  if (method === 'auto') method = bwrap !== undefined && (setpriv !== undefined || !isRoot) ? 'bwrap' : 'chroot';
  if (method === 'bwrap') {
    if (bwrap === undefined) throw new MoatError('MOAT_ROOT_NO_BWRAP', 'bwrap is not installed');
    const args = [bwrap, '--die-with-parent', '--new-session', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try'];
    const bind = opts.writable === true ? '--bind' : '--ro-bind';
    for (const name of readdirSync(root).sort()) {
      if (name === 'proc' || name === 'dev' || name === 'tmp') continue;
      const p = `${root}/${name}`;
      const st = lstatSync(p);
      if (st.isSymbolicLink()) args.push('--symlink', readlinkSync(p), `/${name}`);
      else args.push(bind, p, `/${name}`);
    }
    args.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp', '--chdir', '/', '--');
    args.push(...opts.cmd);
    if (!isRoot) return args;
    if (setpriv === undefined) throw new MoatError('MOAT_ROOT_NO_SETPRIV', 'dropping privileges before bwrap needs setpriv (util-linux)');
    return [setpriv, `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--', ...args];
  }
  const chroot = have('chroot');
  if (chroot === undefined) throw new MoatError('MOAT_ROOT_NO_CHROOT', 'chroot is not installed');
  if (!isRoot) throw new MoatError('MOAT_ROOT_NOT_ROOT', 'chroot needs root; install bubblewrap to run without it');
  return [chroot, `--userspec=${uid}:${gid}`, `--groups=${gid}`, root, ...opts.cmd];
}

/** Run, forwarding stdio and termination signals; resolves to the exit status. */
export function runInRoot(opts: RunOptions, io: Io): Promise<number> {
  const argv = runArgv(opts);
  const env: Record<string, string> = { PATH, HOME: '/', ...(opts.env ?? {}) };
  const [file, ...args] = argv;
  if (file === undefined) return Promise.resolve(70);
  return new Promise((resolve, reject) => {
    const child = lazyChildProcess().spawn(file, args, { env, stdio: ['pipe', 'pipe', 'pipe'], shell: false });
    io.stdin.pipe(child.stdin).on('error', () => undefined);
    child.stdin.on('error', () => undefined);
    child.stdout.pipe(io.stdout, { end: false });
    child.stderr.pipe(io.stderr, { end: false });
    const forward = (sig: NodeJS.Signals): void => {
      child.kill(sig);
    };
    const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
    for (const s of signals) process.on(s, forward);
    const done = (): void => {
      for (const s of signals) process.removeListener(s, forward);
      io.stdin.unpipe(child.stdin);
    };
    child.on('error', (e) => {
      done();
      reject(new MoatError('MOAT_ROOT_RUN', `${file}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      done();
      resolve(code ?? 128 + (signal === null ? 0 : signalNumber(signal)));
    });
  });
}

function signalNumber(s: NodeJS.Signals): number {
  const n: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15, SIGSEGV: 11, SIGABRT: 6 };
  return n[s] ?? 1;
}

export function runMain(argv: readonly string[], io: Io): Promise<number> {
  const dd = argv.indexOf('--');
  const own = dd < 0 ? argv : argv.slice(0, dd);
  const cmd = dd < 0 ? [] : argv.slice(dd + 1);
  const { values, positionals } = parseCommandLine('moat root run', own, {
    root: { type: 'string' },
    user: { type: 'string' },
    method: { type: 'string' },
    env: { type: 'string', multiple: true },
    writable: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help === true) {
    io.stdout.write(RUN_USAGE);
    return Promise.resolve(0);
  }
  const hint = "try 'moat root run --help'";
  if (values.root === undefined) throw new UsageError('moat root run: --root DIR is required', hint);
  const command = [...positionals, ...cmd];
  if (command.length === 0) throw new UsageError('moat root run: name the command to run after --', hint);
  const method = values.method ?? 'auto';
  if (method !== 'auto' && method !== 'bwrap' && method !== 'chroot') throw new UsageError(`moat root run: --method is auto, bwrap or chroot, not '${method}'`, hint);
  const env: Record<string, string> = {};
  for (const e of values.env ?? []) {
    const i = e.indexOf('=');
    if (i <= 0) throw new UsageError(`moat root run: --env wants NAME=VALUE, not '${e}'`, hint);
    env[e.slice(0, i)] = e.slice(i + 1);
  }
  return runInRoot(
    { root: posix.resolve(io.cwd, values.root), cmd: command, method, env, ...(values.user === undefined ? {} : { user: values.user }), ...(values.writable === true ? { writable: true } : {}) },
    io,
  );
}
