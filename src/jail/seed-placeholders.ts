// Seed 001 writes paths it cannot know as `/path/to/...` (the compiled
// fingerd, the rc.d directory, finger.conf). A spec that still holds one
// renders files that name a path that does not exist, so it is reported:
// as a warning, since the spec is otherwise valid and the files may be
// rendered on a machine other than the one they are meant for.
import { readFile } from 'node:fs/promises';
import { SourceSyntaxError } from '../core/index.js';

const PLACEHOLDER = '/path/to/';

/** Every string in a spec that starts with the seed's placeholder, with its field path. */
export function seedPlaceholders(value: unknown, path: readonly (string | number)[] = []): { field: string; value: string }[] {
  if (typeof value === 'string') return value.startsWith(PLACEHOLDER) ? [{ field: path.map(String).join('.'), value }] : [];
  if (Array.isArray(value)) return value.flatMap((v: unknown, i) => seedPlaceholders(v, [...path, i]));
  if (typeof value === 'object' && value !== null) return Object.entries(value).flatMap(([k, v]) => seedPlaceholders(v, [...path, k]));
  return [];
}

/**
 * One `file:line:col: warning: ...` per placeholder, pointing at the value
 * where it is written outside a comment (the file is read again only when
 * there is something to report).
 */
export async function placeholderWarnings(spec: unknown, file: string): Promise<string[]> {
  const found = seedPlaceholders(spec);
  if (found.length === 0) return [];
  const text = await readFile(file, 'utf8');
  const used = new Set<number>();
  return found.map(({ field, value }) => {
    const message = `warning: ${field}: ${value} is seed 001's placeholder; give the real path`;
    const offset = locate(text, value, used);
    return offset === undefined ? `${file}: ${message}` : SourceSyntaxError.at(message, file, text, offset, value.length).format();
  });
}

/** The first occurrence of `value` outside a `#` comment that no earlier warning took. */
function locate(text: string, value: string, used: Set<number>): number | undefined {
  let lineStart = 0;
  for (const line of text.split('\n')) {
    // YAML comments start at a `#` at the line's start or after a blank.
    const hash = line.search(/(^|\s)#/);
    const code = hash < 0 ? line : line.slice(0, hash);
    for (let at = code.indexOf(value); at >= 0; at = code.indexOf(value, at + 1)) {
      if (!used.has(lineStart + at)) {
        used.add(lineStart + at);
        return lineStart + at;
      }
    }
    lineStart += line.length + 1;
  }
  return undefined;
}
