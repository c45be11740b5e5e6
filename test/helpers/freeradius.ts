// Debian's FreeRADIUS 3 as a real peer for the RADIUS tests: a private copy
// of /etc/freeradius/3.0 in a temp dir, listening on 127.0.0.1 only, on free
// ports, with the test's users, clients and secret, and detail accounting
// written into the temp dir. Started in the foreground (-X) and stopped by pid.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { cp, mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { haveCommand, isRoot } from './system.js';

export const FREERADIUS_CONF = '/etc/freeradius/3.0';

/** What the RADIUS system tests need: freeradius and radclient installed, and root (freeradius' config is root-only). */
export function freeradiusRequirements(): Record<string, boolean> {
  return {
    'freeradius (apt-get install freeradius)': haveCommand('freeradius') && existsSync(FREERADIUS_CONF),
    'radclient (apt-get install freeradius-utils)': haveCommand('radclient'),
    root: isRoot,
  };
}

export interface FreeradiusUser {
  name: string;
  /** Cleartext-Password (works for PAP and CHAP). */
  password: string;
  /** Reply items, FreeRADIUS users-file syntax: `Session-Timeout = 3600`. */
  reply?: string[];
}

export interface FreeradiusOptions {
  secret: string;
  users: FreeradiusUser[];
  /** clients.conf require_message_authenticator (default no). */
  requireMessageAuthenticator?: boolean;
  /** Add a Message-Authenticator to every Access reply (default yes; FreeRADIUS 3.2.1 adds none by itself). */
  replyMessageAuthenticator?: boolean;
  /** Appended to the copy's dictionary file (attributes Debian's dictionaries lack). */
  dictionary?: string;
  /** Run inside this network namespace (`ip netns exec NS freeradius ...`); ports default to 1812/1813 there. */
  netns?: string;
  /** The address freeradius listens on (default 127.0.0.1). */
  listenAddress?: string;
  /** clients.conf entries (default: 127.0.0.1 with `secret`). */
  clients?: { address: string; secret: string }[];
  /** Fixed ports (default: free ones on 127.0.0.1, or 1812/1813 in a namespace). */
  authPort?: number;
  acctPort?: number;
  /**
   * Run as in production: threaded, logging at the normal level (`-f -l
   * stdout`), not -X (one thread, every request's trace), for benchmarks
   * where the server must not be what is measured. Default false.
   */
  production?: boolean;
}

export interface Freeradius {
  authPort: number;
  acctPort: number;
  dir: string;
  /** The detail records written so far, each as attribute name → values (in order). */
  detailRecords(): Promise<Map<string, string[]>[]>;
  /** The last of freeradius -X's output, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/** A UDP port nothing is bound to right now. */
export async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => { resolve(); }));
  return port;
}

function siteConfig(listen: string, authPort: number, acctPort: number, replyMessageAuthenticator: boolean): string {
  return `server moat_test {
listen {
	type = auth
	ipaddr = ${listen}
	port = ${String(authPort)}
}
listen {
	type = acct
	ipaddr = ${listen}
	port = ${String(acctPort)}
}
authorize {
	preprocess
	chap
	files
	pap
}
authenticate {
	Auth-Type PAP {
		pap
	}
	Auth-Type CHAP {
		chap
	}
}
preacct {
	preprocess
	acct_unique
}
accounting {
	detail
	ok
}
post-auth {
${replyMessageAuthenticator ? '\tupdate reply {\n\t\tMessage-Authenticator := 0x00\n\t}\n' : ''}	Post-Auth-Type REJECT {
${replyMessageAuthenticator ? '\t\tupdate reply {\n\t\t\tMessage-Authenticator := 0x00\n\t\t}\n' : ''}		ok
	}
}
}
`;
}

function usersFile(users: FreeradiusUser[]): string {
  return users
    .map((u) => {
      const reply = (u.reply ?? []).map((r) => `\t${r}`).join(',\n');
      return `"${u.name}" Cleartext-Password := "${u.password}"\n${reply === '' ? '' : reply + '\n'}`;
    })
    .join('\n');
}

/** Parse FreeRADIUS detail records: a timestamp line, then `\tName = value` lines, then a blank line. */
export function parseDetail(text: string): Map<string, string[]>[] {
  const records: Map<string, string[]>[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const lines = block.split('\n').filter((l) => l.trim() !== '');
    if (lines.length === 0) continue;
    const rec = new Map<string, string[]>();
    for (const line of lines.slice(1)) {
      const m = /^\s+([A-Za-z0-9-]+) = (.*)$/.exec(line);
      if (m === null) continue;
      const [, name = '', raw = ''] = m;
      const value = raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw;
      rec.set(name, [...(rec.get(name) ?? []), value]);
    }
    records.push(rec);
  }
  return records;
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out;
}

/** Start freeradius -X with a private config; resolves once it is ready to process requests. */
export async function startFreeradius(opts: FreeradiusOptions): Promise<Freeradius> {
  const dir = await mkdtemp(join(tmpdir(), `moat-freeradius-${String(process.pid)}-`));
  const raddb = join(dir, 'raddb');
  const logdir = join(dir, 'log');
  const runDir = join(dir, 'run');
  await cp(FREERADIUS_CONF, raddb, { recursive: true, verbatimSymlinks: true });
  await mkdir(join(logdir, 'radacct'), { recursive: true });
  await mkdir(runDir, { recursive: true });
  let conf = await readFile(join(raddb, 'radiusd.conf'), 'utf8');
  conf = conf
    .replace(/^logdir = .*$/m, `logdir = ${logdir}`)
    .replace(/^run_dir = .*$/m, `run_dir = ${runDir}`)
    .replace(/^raddbdir = .*$/m, `raddbdir = ${raddb}`)
    // Run as the test's user (root): the temp dir is not freerad's.
    .replace(/^\s*(user|group) = freerad\s*$/gm, '')
    // An Access-Reject now, not after the default second: the tests send many.
    .replace(/^(\s*)reject_delay = .*$/m, '$1reject_delay = 0');
  await writeFile(join(raddb, 'radiusd.conf'), conf);
  const clients = opts.clients ?? [{ address: '127.0.0.1', secret: opts.secret }];
  await writeFile(
    join(raddb, 'clients.conf'),
    clients
      .map(
        (c, i) =>
          `client moat_test_${String(i)} {\n\tipaddr = ${c.address}\n\tsecret = ${c.secret}\n` +
          `\trequire_message_authenticator = ${opts.requireMessageAuthenticator === true ? 'yes' : 'no'}\n\tnas_type = other\n}\n`,
      )
      .join(''),
  );
  await writeFile(join(raddb, 'mods-config', 'files', 'authorize'), usersFile(opts.users));
  if (opts.dictionary !== undefined) {
    const dict = await readFile(join(raddb, 'dictionary'), 'utf8');
    await writeFile(join(raddb, 'dictionary'), `${dict}\n${opts.dictionary}\n`);
  }
  // Only our site; and no EAP (it wants TLS certificates this copy need not have).
  for (const f of await readdir(join(raddb, 'sites-enabled'))) await rm(join(raddb, 'sites-enabled', f));
  await rm(join(raddb, 'mods-enabled', 'eap'), { force: true });

  for (let attempt = 0; ; attempt++) {
    const inNetns = opts.netns !== undefined;
    const authPort = opts.authPort ?? (inNetns ? 1812 : await freeUdpPort());
    const acctPort = opts.acctPort ?? (inNetns ? 1813 : await freeUdpPort());
    await writeFile(
      join(raddb, 'sites-enabled', 'moat_test'),
      siteConfig(opts.listenAddress ?? '127.0.0.1', authPort, acctPort, opts.replyMessageAuthenticator ?? true),
    );
    // `ip netns exec` execs freeradius in place, so the child's pid is freeradius' own.
    const argv = opts.production === true ? ['-f', '-l', 'stdout', '-d', raddb] : ['-X', '-d', raddb];
    const child = opts.netns === undefined
      ? spawn('freeradius', argv, { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('ip', ['netns', 'exec', opts.netns, 'freeradius', ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const keep = (b: Buffer): void => {
      out = (out + b.toString('utf8')).slice(-200_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => { resolve(false); }, 15_000);
      const check = (): void => {
        if (out.includes('Ready to process requests')) {
          clearTimeout(timer);
          resolve(true);
        }
      };
      child.stdout.on('data', check);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    if (ready) {
      return {
        authPort,
        acctPort,
        dir,
        output: () => out,
        detailRecords: async () => {
          const files = (await walk(join(logdir, 'radacct'))).sort();
          const texts = await Promise.all(files.map((f) => readFile(f, 'utf8')));
          return texts.flatMap(parseDetail);
        },
        stop: () => stopChild(child).then(() => rm(dir, { recursive: true, force: true })),
      };
    }
    await stopChild(child);
    // A port taken between our probe and freeradius' bind: try again with new ones.
    if (attempt >= 2 || opts.authPort !== undefined || inNetns || !/Address already in use|Failed binding/i.test(out)) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(`freeradius did not start:\n${out.slice(-4000)}`);
    }
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
