import { readFile } from 'node:fs/promises';
import { isMap, isNode, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { MoatError, errnoReason } from './errors.js';
import { knownKeysAt } from './schema-keys.js';
import { closest } from './suggest.js';
import { SourceSyntaxError, SourceSyntaxErrors } from './syntax-error.js';

/**
 * Parse YAML text and validate it against a zod schema. Every problem is a
 * `SourceSyntaxError` that names the field and points at its line and column,
 * so `moat net render` and `moat jail render` can say exactly what is wrong
 * before writing anything.
 */
export function parseSpec<S extends z.ZodType>(schema: S, text: string, file: string): z.infer<S> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw SourceSyntaxErrors.of(
      doc.errors.map((e) => SourceSyntaxError.at(e.message.split('\n')[0] ?? 'YAML error', file, text, e.pos[0], 1, 'MOAT_SPEC_YAML')),
    );
  }
  const value: unknown = doc.toJS({ maxAliasCount: 100 });
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const errors: SourceSyntaxError[] = [];
  const seen = new Set<string>();
  const add = (e: SourceSyntaxError): void => {
    const key = `${String(e.line)}:${String(e.column)}:${e.message}`;
    if (!seen.has(key)) errors.push(e);
    seen.add(key);
  };
  // A misspelt key also leaves the key it meant missing: that is one mistake,
  // reported once, at the misspelling.
  const meant = new Set<string>();
  const issues = result.error.issues.map((issue) => ({ issue, path: issue.path.filter((p): p is string | number => typeof p !== 'symbol') }));
  for (const { issue, path } of issues) {
    if (issue.code !== 'unrecognized_keys') continue;
    const known = knownKeysAt(schema, path);
    for (const key of issue.keys) {
      const near = closest(key, known);
      if (near !== undefined && doc.getIn([...path, near], true) === undefined) meant.add(JSON.stringify([...path, near]));
    }
  }
  for (const { issue, path } of issues) {
    if (issue.code !== 'unrecognized_keys' && meant.has(JSON.stringify(path))) continue;
    if (issue.code === 'unrecognized_keys') {
      // Each unknown key at its own line, named in full, with the closest known key.
      const known = knownKeysAt(schema, path);
      for (const key of issue.keys) {
        const { offset, length } = locateKey(doc, path, key);
        const field = [...path, key].map(String).join('.');
        const near = closest(key, known);
        const hint = near === undefined ? '' : `; did you mean '${near}'?`;
        add(SourceSyntaxError.at(`${field}: unknown field${hint}`, file, text, offset, length, 'MOAT_SPEC_INVALID'));
      }
      continue;
    }
    const { offset, length } = locate(doc, path, text);
    const field = path.length === 0 ? '(top level)' : path.map(String).join('.');
    add(SourceSyntaxError.at(`${field}: ${issue.message}`, file, text, offset, length, 'MOAT_SPEC_INVALID'));
  }
  throw SourceSyntaxErrors.of(errors);
}

/** Read and parse a spec file; a missing file is a clear error, not a stack. */
export async function loadSpec<S extends z.ZodType>(schema: S, file: string): Promise<z.infer<S>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const why = errnoReason(e);
    throw new MoatError('MOAT_SPEC_READ', `cannot read ${file}: ${why}`, { cause: e });
  }
  return parseSpec(schema, text, file);
}

// Point at the deepest node on the path that exists: the bad value itself,
// or the map that lacks a required key.
function locate(doc: Document, path: (string | number)[], text: string): { offset: number; length: number } {
  for (let n = path.length; n >= 0; n--) {
    const node: unknown = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) {
      const [start, end] = node.range;
      if (n < path.length) {
        // The key is missing: point at the start of the map that should hold it.
        return { offset: start, length: 1 };
      }
      return { offset: start, length: Math.max(1, Math.min(end, !text.includes('\n', start) ? end : text.indexOf('\n', start)) - start) };
    }
  }
  return { offset: 0, length: 1 };
}

function locateKey(doc: Document, path: (string | number)[], key: string): { offset: number; length: number } {
  const map: unknown = path.length === 0 ? doc.contents : doc.getIn(path, true);
  if (isMap(map)) {
    for (const item of map.items) {
      if (isScalar(item.key) && String(item.key.value) === key && item.key.range) {
        return { offset: item.key.range[0], length: key.length };
      }
    }
  }
  return { offset: 0, length: 1 };
}
