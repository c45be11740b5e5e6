// The keys a zod object schema allows at a path in the value, so an unknown
// key in a spec can be answered with the closest known one. Walks zod 4's
// definitions (`_zod.def`) through the wrappers a spec schema uses.
import type { z } from 'zod';

interface Def {
  readonly type: string;
  readonly shape?: Readonly<Record<string, z.ZodType>>;
  readonly innerType?: z.ZodType;
  readonly element?: z.ZodType;
  readonly valueType?: z.ZodType;
  readonly options?: readonly z.ZodType[];
  readonly in?: z.ZodType;
  readonly out?: z.ZodType;
  readonly left?: z.ZodType;
  readonly right?: z.ZodType;
  readonly getter?: () => z.ZodType;
}

const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

// Bounds the walk: spec schemas are shallow, and a lazy schema may recurse.
const MAX_DEPTH = 64;

/** The object schemas reachable from `schema` without descending into a key. */
function objects(schema: z.ZodType, depth: number, out: Def[]): void {
  if (depth > MAX_DEPTH) return;
  const def = defOf(schema);
  switch (def.type) {
    case 'object':
      out.push(def);
      return;
    case 'union':
      for (const o of def.options ?? []) objects(o, depth + 1, out);
      return;
    case 'intersection':
      if (def.left) objects(def.left, depth + 1, out);
      if (def.right) objects(def.right, depth + 1, out);
      return;
    case 'pipe':
      if (def.in) objects(def.in, depth + 1, out);
      return;
    case 'lazy':
      if (def.getter) objects(def.getter(), depth + 1, out);
      return;
    default:
      if (def.innerType) objects(def.innerType, depth + 1, out);
  }
}

/** The schemas a value at `key` below `schema` may match. */
function children(schema: z.ZodType, key: string | number, depth: number): z.ZodType[] {
  if (depth > MAX_DEPTH) return [];
  const def = defOf(schema);
  switch (def.type) {
    case 'array':
    case 'set':
      return typeof key === 'number' && def.element ? [def.element] : [];
    case 'record':
      return def.valueType ? [def.valueType] : [];
    case 'object': {
      const s = def.shape?.[String(key)];
      return s === undefined ? [] : [s];
    }
    case 'union':
      return (def.options ?? []).flatMap((o) => children(o, key, depth + 1));
    case 'intersection':
      return [def.left, def.right].flatMap((o) => (o === undefined ? [] : children(o, key, depth + 1)));
    case 'pipe':
      return def.in ? children(def.in, key, depth + 1) : [];
    case 'lazy':
      return def.getter ? children(def.getter(), key, depth + 1) : [];
    default:
      return def.innerType ? children(def.innerType, key, depth + 1) : [];
  }
}

/** Every key an object at `path` may have, or none if the path leads to no object. */
export function knownKeysAt(schema: z.ZodType, path: readonly (string | number)[]): string[] {
  let here: z.ZodType[] = [schema];
  for (const key of path) here = here.flatMap((s) => children(s, key, 0));
  const defs: Def[] = [];
  for (const s of here) objects(s, 0, defs);
  return [...new Set(defs.flatMap((d) => Object.keys(d.shape ?? {})))];
}
