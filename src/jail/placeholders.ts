// Arguments may name spec values as {port}, {address} and so on, so that one
// spec renders the right command line for each OS and variant. Only known
// names expand; {{ and }} stand for literal braces. Expansion happens before
// quoting, so an expanded value is quoted like any other argument.

const TOKEN = /\{\{|\}\}|\{([A-Za-z]+)\}|[{}]/g;

/** Why `arg` is not a valid template for these names, or undefined when it is. */
export function placeholderProblem(arg: string, allowed: readonly string[]): string | undefined {
  for (const m of arg.matchAll(TOKEN)) {
    const [whole, name] = m;
    if (whole === '{{' || whole === '}}') continue;
    if (name === undefined) return `has a lone '${whole}'; write {{ or }} for a literal brace`;
    if (!allowed.includes(name)) {
      return `{${name}} is not known here; use one of ${allowed.map((a) => `{${a}}`).join(' ')}`;
    }
  }
  return undefined;
}

/** Expand the placeholders of a template already checked by `placeholderProblem`. */
export function expandPlaceholders(arg: string, values: Readonly<Record<string, string>>): string {
  return arg.replace(TOKEN, (whole, name: string | undefined) => {
    if (whole === '{{') return '{';
    if (whole === '}}') return '}';
    const v = name === undefined ? undefined : values[name];
    if (v === undefined) throw new Error(`placeholder ${whole} has no value`);
    return v;
  });
}
