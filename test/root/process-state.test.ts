// Library code changes no process state: buildRoot and runInRoot install
// no signal handlers (the CLI does, through their hooks), and the manifest
// is written by core's atomic writer.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { buildRoot, runInRoot } from '../../src/root/index.js';
import { captureIo } from '../helpers/io.js';
import { haveCommand, isRoot, needs } from '../helpers/system.js';

const moatBin = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'moat.js');
const SIGNALS = ['SIGUSR1', 'SIGINFO', 'SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const listeners = (): number[] => SIGNALS.map((s) => process.listenerCount(s));

function scratch(tag: string): string {
  const d = mkdtempSync(join('/var/tmp', `moat-root-${tag}-`));
  chmodSync(d, 0o755);
  return d;
}

describe('root as a library', () => {
  it('buildRoot installs no handlers: the status line is a hook the caller installs', async () => {
    const work = scratch('hooks');
    try {
      const before = listeners();
      const during: number[][] = [];
      const said: string[] = [];
      let removed = 0;
      const report = await buildRoot({ root: join(work, 'r'), binaries: [{ src: '/bin/sh' }], ldconfig: false }, captureIo(), {
        status: (describe) => {
          during.push(listeners());
          said.push(describe());
          return () => {
            removed++;
          };
        },
      });
      assert.ok(report.files > 0);
      assert.deepEqual(during, [before]);
      assert.match(said[0] ?? '', /^copying file 1 of \d+ into .*\/r$/);
      assert.equal(removed, 1);
      assert.deepEqual(listeners(), before);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('the manifest is written atomically, replacing a symlink planted at its name rather than writing through it', async () => {
    const work = scratch('manifest');
    try {
      const victim = join(work, 'victim');
      writeFileSync(victim, 'precious\n');
      const manifest = join(work, 'root.manifest.json');
      symlinkSync(victim, manifest);
      const io = captureIo({ cwd: work });
      const report = await buildRoot({ root: join(work, 'r'), binaries: [{ src: '/bin/sh' }], ldconfig: false, manifest: 'root.manifest.json' }, io);
      assert.equal(readFileSync(victim, 'utf8'), 'precious\n');
      assert.ok(lstatSync(manifest).isFile());
      const written = JSON.parse(readFileSync(manifest, 'utf8')) as { format: string; entries: unknown[] };
      assert.equal(written.format, 'moat-root-manifest/1');
      assert.equal(written.entries.length, report.manifest?.entries.length);
      // No temporary file is left beside it.
      assert.deepEqual(readdirSync(work).filter((n) => n.endsWith('.tmp')), []);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('runInRoot installs no handlers; the caller gets a way to signal the command', { timeout: 60_000 }, async (t) => {
    if (!needs(t, { 'root (chroot) or bwrap': isRoot || haveCommand('bwrap'), 'bwrap or chroot': haveCommand('bwrap') || haveCommand('chroot') })) return;
    const work = scratch('runhooks');
    try {
      await buildRoot({ root: join(work, 'r'), binaries: [{ src: '/bin/sh' }], ldconfig: false }, captureIo());
      const before = listeners();
      let during: number[] = [];
      const io = captureIo();
      const code = await runInRoot({ root: join(work, 'r'), cmd: ['/bin/sh', '-c', 'i=0; while [ $i -lt 20000000 ]; do i=$((i+1)); done'] }, io, {
        started: (kill) => {
          during = listeners();
          setTimeout(() => {
            kill('SIGTERM');
          }, 200);
        },
      });
      assert.deepEqual(during, before);
      // The shell died of the SIGTERM the hook sent: 128 + 15.
      assert.equal(code, 143, io.err());
      assert.deepEqual(listeners(), before);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('moat root run, the command, forwards its SIGTERM to what it runs', { timeout: 60_000 }, async (t) => {
    if (!needs(t, { 'root (chroot) or bwrap': isRoot || haveCommand('bwrap'), 'bwrap or chroot': haveCommand('bwrap') || haveCommand('chroot') })) return;
    const work = scratch('runcli');
    try {
      await buildRoot({ root: join(work, 'r'), binaries: [{ src: '/bin/sh' }], ldconfig: false }, captureIo());
      const child = spawn(process.execPath, [moatBin, 'root', 'run', '--root', join(work, 'r'), '--', '/bin/sh', '-c', 'echo ready; i=0; while [ $i -lt 20000000 ]; do i=$((i+1)); done'], { stdio: ['ignore', 'pipe', 'pipe'] });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => {
        resolve(code);
      }));
      await new Promise<void>((resolve) => {
        child.stdout.on('data', (c: Buffer) => {
          if (c.toString('utf8').includes('ready')) resolve();
        });
      });
      child.kill('SIGTERM');
      // moat itself stays to report the command's status: killed by SIGTERM, 128 + 15.
      assert.equal(await exited, 143);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
