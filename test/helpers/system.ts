import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';

/** The repository root (tests run from dist/test/…). */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** A path under test/fixtures/. */
export function fixture(...parts: string[]): string {
  return join(repoRoot, 'test', 'fixtures', ...parts);
}

/** The shared material beside the repository (`../shared`). */
export const sharedDir = join(repoRoot, '..', 'shared');

/** CI sets MOAT_REQUIRE_SYSTEM=1: then nothing may skip for want of the system. */
export const requireSystem = process.env.MOAT_REQUIRE_SYSTEM === '1';

/** Is this command on PATH (or an absolute path that exists)? */
export function haveCommand(cmd: string): boolean {
  if (cmd.startsWith('/')) return existsSync(cmd);
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', cmd], { stdio: 'ignore' }).status === 0;
}

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Can we make network namespaces here? (root, and iproute2 that can.) */
export function haveNetns(): boolean {
  if (!isRoot || !haveCommand('ip')) return false;
  const name = `moat-probe-${String(process.pid)}`;
  const ok = spawnSync('ip', ['netns', 'add', name], { stdio: 'ignore' }).status === 0;
  if (ok) spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  return ok;
}

/**
 * Gate a system test. When what it needs is missing it skips with a message
 * naming what is missing, or, under CI (MOAT_REQUIRE_SYSTEM=1), fails.
 * Returns true when the test may go on.
 */
export function needs(t: TestContext, requirements: Record<string, boolean>): boolean {
  const missing = Object.entries(requirements).filter(([, ok]) => !ok).map(([what]) => what);
  if (missing.length === 0) return true;
  const message = `needs ${missing.join(', ')}`;
  if (requireSystem) throw new Error(`${message} (MOAT_REQUIRE_SYSTEM=1 forbids skipping)`);
  t.skip(message);
  return false;
}
