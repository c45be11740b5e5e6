// `--trace`: run the binary once under strace(1) and note every shared object
// it opens, to catch what it dlopen()s. This runs the program on the host, so
// it is opt-in; makejail works the same way.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MoatError, lazyChildProcess } from '../core/index.js';

const CLEAN_ENV = { PATH: '/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin', HOME: '/', LANG: 'C.UTF-8' };

/** Decode a string strace printed with -xx ("\x2f\x6c..."). */
export function decodeStraceHex(s: string): string | undefined {
  if (!/^(\\x[0-9a-f]{2})*$/.test(s)) return undefined;
  const bytes = Buffer.from(s.replace(/\\x/g, ''), 'hex');
  return bytes.toString('utf8');
}

/** Absolute paths that a strace -f -xx log shows were opened successfully. */
export function openedPaths(log: string): string[] {
  const out = new Set<string>();
  for (const line of log.split('\n')) {
    const m = /\bopen(?:at2?)?\((?:[^,]*, )?"((?:\\x[0-9a-f]{2})*)"[^)]*\)\s*=\s*(\d+)/.exec(line);
    if (!m) continue;
    const path = decodeStraceHex(m[1] ?? '');
    if (path?.startsWith('/') === true && !/^\/(proc|sys|dev)\//.test(path)) out.add(path);
  }
  return [...out];
}

/** Run `binary args...` under strace and return the absolute paths it opened. */
export async function traceOpens(binary: string, args: readonly string[], timeoutMs = 30_000): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'moat-trace-'));
  const log = join(dir, 'strace.log');
  try {
    // The program's own exit status does not matter: we only want what it opened.
    await new Promise<void>((resolve, reject) => {
      const child = lazyChildProcess().spawn('strace', ['-f', '-qq', '-xx', '-s', '4096', '-e', 'trace=open,openat,openat2', '-o', log, '--', binary, ...args], {
        env: CLEAN_ENV,
        stdio: ['ignore', 'ignore', 'pipe'],
        shell: false,
      });
      let err = '';
      child.stderr.on('data', (c: Buffer) => {
        if (err.length < 4096) err += c.toString('utf8');
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(new MoatError('MOAT_ROOT_TRACE', `strace: ${e.message}`));
      });
      child.on('close', (c) => {
        clearTimeout(timer);
        if (c === null && err !== '') reject(new MoatError('MOAT_ROOT_TRACE', `strace: ${err.trim()}`));
        else resolve();
      });
    });
    return openedPaths(readFileSync(log, 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
