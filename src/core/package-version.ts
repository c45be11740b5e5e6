import { readFileSync } from 'node:fs';

/**
 * moat's version, from the package.json beside the build (dist/src/core/ is
 * three folders below it). A single executable has no package.json beside
 * it: then `fallback`.
 */
export function packageVersion(fallback = 'unknown'): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : fallback;
  } catch {
    return fallback;
  }
}
