// The closure of every ELF file under /usr/bin and /usr/lib/x86_64-linux-gnu
// must equal what ldd(1) reports. ldd is only the oracle here: it runs the
// dynamic loader on each file, which is exactly what moat never does.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { lstatSync, readdirSync, realpathSync } from 'node:fs';
import { arch } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { Resolver } from '../../src/root/resolver.js';
import { Tree } from '../../src/root/tree.js';
import { haveCommand, needs } from '../helpers/system.js';
import { isElf } from '../helpers/elf-files.js';

/**
 * Files whose closure may legitimately differ from ldd's, with the reason.
 * None are needed on Debian 12 today; linux-vdso.so.1 is left out of every
 * comparison because the kernel maps it and no file holds it.
 */
const EXCEPTIONS: Readonly<Record<string, string>> = {};

function walk(dir: string, out: string[]): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const n of names) {
    const p = join(dir, n);
    const st = lstatSync(p);
    if (st.isDirectory()) walk(p, out);
    else if (st.isFile()) out.push(p);
  }
  return out;
}

function real(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

function ldd(file: string): Promise<string> {
  return new Promise((resolve) => {
    execFile('ldd', [file], { timeout: 20_000, env: { PATH: '/usr/bin:/bin', LC_ALL: 'C' } }, (_err, stdout) => {
      resolve(stdout);
    });
  });
}

/** name=realpath for each library, plus `!name` for each one not found. */
function fromLdd(out: string): Set<string> {
  const s = new Set<string>();
  for (const line of out.split('\n')) {
    const found = /^\t(\S+) => (\/.*) \(0x[0-9a-f]+\)$/.exec(line);
    if (found) s.add(`${found[1] ?? ''}=${real(found[2] ?? '')}`);
    const missing = /^\t(\S+) => not found$/.exec(line);
    if (missing) s.add(`!${missing[1] ?? ''}`);
  }
  return s;
}

it('closure equals ldd for every ELF file in /usr/bin and /usr/lib/x86_64-linux-gnu', async (t) => {
  if (!needs(t, { 'Linux x86-64': process.platform === 'linux' && arch() === 'x64', ldd: haveCommand('ldd') })) return;
  const files = [...walk('/usr/bin', []), ...walk('/usr/lib/x86_64-linux-gnu', [])].filter(isElf);
  assert.ok(files.length > 100, `only ${files.length} ELF files found`);
  const resolver = new Resolver(new Tree('/'));
  const ours = new Map<string, Set<string>>();
  for (const f of files) {
    const s = new Set<string>();
    try {
      const c = resolver.closure(f);
      for (const l of c.libs) s.add(`${l.request}=${real(l.path)}`);
      for (const m of c.missing) if (m.name !== c.interp?.request) s.add(`!${m.name}`);
    } catch (e) {
      s.add(`error: ${e instanceof Error ? e.message : String(e)}`);
    }
    ours.set(f, s);
  }
  const theirs = new Map<string, Set<string>>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const f = files[next++] ?? '';
      theirs.set(f, fromLdd(await ldd(f)));
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  const diffs: string[] = [];
  for (const f of files) {
    if (EXCEPTIONS[f] !== undefined) continue;
    const a = ours.get(f) ?? new Set();
    const b = theirs.get(f) ?? new Set();
    const onlyOurs = [...a].filter((x) => !b.has(x));
    const onlyLdd = [...b].filter((x) => !a.has(x));
    if (onlyOurs.length + onlyLdd.length > 0) diffs.push(`${f}: moat only [${onlyOurs.join(', ')}], ldd only [${onlyLdd.join(', ')}]`);
  }
  t.diagnostic(`${files.length} ELF files compared`);
  assert.deepEqual(diffs.slice(0, 20), [], `${diffs.length} files differ`);
});
