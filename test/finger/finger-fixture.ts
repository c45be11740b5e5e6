// Shared by the finger tests: temporary homes with chosen owners, a raw
// client, and a quiet Io for in-process daemons.
import { chownSync, lchownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FingerDaemon } from '../../src/finger/index.js';

/** The CLI as built next to this test (dist/ or dist-<name>/). */
export const moatBin = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'moat.js');

export const UID = { alice: 1500, mallory: 1501, eve: 1502, bob: 1503 } as const;

export interface Homes {
  dir: string;
  cleanup(): void;
}

/**
 * A homes directory for the tests. As root, each home and file belongs to its
 * own test uid, so the ownership checks really run; otherwise they all belong
 * to us.
 */
export function makeHomes(asRoot: boolean): Homes {
  const dir = mkdtempSync(join(tmpdir(), 'moat-finger-homes-'));
  const own = (p: string, uid: number): void => {
    if (asRoot) lchownSync(p, uid, uid);
  };
  const home = (name: string, uid: number): string => {
    const h = join(dir, name);
    mkdirSync(h);
    own(h, uid);
    return h;
  };
  const file = (h: string, name: string, text: string | Buffer, uid: number): void => {
    writeFileSync(join(h, name), text);
    own(join(h, name), uid);
  };
  const alice = home('alice', UID.alice);
  file(alice, '.plan', 'Build the moat first.\nThen the castle.\n', UID.alice);
  file(alice, '.project', 'moat\n', UID.alice);
  file(alice, '.pubkey', 'ssh-ed25519 AAAATESTKEY alice@test\n', UID.alice);
  file(alice, '.fingerlist', '', UID.alice);
  const bob = home('bob', UID.bob);
  file(bob, '.plan', 'Esc:\x1b[2J bell:\x07 tab:\t csi:\u009b end\n', UID.bob);
  const carol = home('carol', UID.bob);
  file(carol, '.plan', 'secret\n', UID.bob);
  file(carol, '.nofinger', '', UID.bob);
  // Attacks: a .plan that is a symlink to a secret, one owned by someone
  // else, and a home that is itself a symlink.
  const mallory = home('mallory', UID.mallory);
  symlinkSync('/etc/shadow', join(mallory, '.plan'));
  own(join(mallory, '.plan'), UID.mallory);
  file(mallory, '.project', 'mallory project\n', UID.mallory);
  const eve = home('eve', UID.eve);
  file(eve, '.plan', 'planted by another uid\n', asRoot ? UID.alice : UID.eve);
  symlinkSync(alice, join(dir, 'trudy'));
  symlinkSync('/etc', join(dir, 'etc'));
  if (asRoot) chownSync(dir, 0, 0);
  return { dir, cleanup: () => { rmSync(dir, { recursive: true, force: true }); } };
}

export interface RawResult {
  data: string;
  /** Did the server close the connection (FIN or RST) before we gave up? */
  closed: boolean;
  error: string | undefined;
}

/** Send `payload` (string or chunks with delays) and collect the answer until close or `waitMs`. */
export function rawQuery(port: number, payload: string | Buffer | { chunks: (string | Buffer)[]; everyMs: number }, waitMs = 5000, host = '127.0.0.1'): Promise<RawResult> {
  return new Promise((resolve) => {
    const got: Buffer[] = [];
    let error: string | undefined;
    let trickle: NodeJS.Timeout | undefined;
    const s = connect({ host, port });
    const done = (closed: boolean): void => {
      clearTimeout(timer);
      if (trickle !== undefined) clearInterval(trickle);
      s.destroy();
      resolve({ data: Buffer.concat(got).toString('latin1'), closed, error });
    };
    s.on('connect', () => {
      if (typeof payload === 'string' || Buffer.isBuffer(payload)) {
        s.write(payload);
        return;
      }
      const chunks = [...payload.chunks];
      trickle = setInterval(() => {
        const c = chunks.shift();
        if (c === undefined) {
          clearInterval(trickle);
          return;
        }
        if (!s.destroyed) s.write(c);
      }, payload.everyMs);
    });
    s.on('data', (c: Buffer) => got.push(c));
    s.on('error', (e: NodeJS.ErrnoException) => {
      error = e.code;
    });
    s.on('close', () => {
      done(true);
    });
    const timer = setTimeout(() => {
      done(false);
    }, waitMs);
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The port of the daemon's `i`th bound address (`host:port` or `[v6]:port`). */
export function portOf(d: FingerDaemon, i = 0): number {
  return Number((d.addresses[i] ?? '').split(':').pop());
}
