// ESLint rule moat/tool-boundary: a tool under src/<tool>/ imports only from
// itself and src/core/; core imports no tool. The tools meet only in bin/.
// Relative specifiers are resolved against the importing file, so
// `../../finger/x.js` from src/bpf/compiler/ is caught as well as `../finger`.
import { dirname, relative, resolve, sep } from 'node:path';

/** The first folder under src/ that `file` lies in, or undefined outside src/. */
function areaOf(file, srcRoot) {
  const rel = relative(srcRoot, file);
  if (rel.startsWith('..') || rel === '') return undefined;
  const [first, ...rest] = rel.split(sep);
  return rest.length === 0 ? undefined : first;
}

/** The src/ folder that holds `file`: the last path segment named src. */
function srcRootOf(file) {
  const parts = file.split(sep);
  const i = parts.lastIndexOf('src');
  return i < 0 ? undefined : parts.slice(0, i + 1).join(sep);
}

export const toolBoundary = {
  meta: {
    type: 'problem',
    docs: { description: 'a tool imports only from itself and core; core imports no tool' },
    schema: [],
    messages: {
      crossTool: "src/{{from}} must not import from src/{{to}}: a tool imports only from itself and core (move what both need into src/core)",
      coreToTool: "src/core must not import from src/{{to}}: core is what every tool shares, and knows none of them",
    },
  },
  create(context) {
    const file = context.filename;
    const srcRoot = srcRootOf(file);
    if (srcRoot === undefined) return {};
    const from = areaOf(file, srcRoot);
    if (from === undefined) return {};
    function check(node, source) {
      if (source === null || source === undefined || source.type !== 'Literal' || typeof source.value !== 'string') return;
      const spec = source.value;
      if (!spec.startsWith('.')) return;
      const to = areaOf(resolve(dirname(file), spec), srcRoot);
      if (to === undefined || to === from) return;
      if (from === 'core') context.report({ node: source, messageId: 'coreToTool', data: { to } });
      else if (to !== 'core') context.report({ node: source, messageId: 'crossTool', data: { from, to } });
    }
    return {
      ImportDeclaration: (n) => check(n, n.source),
      ExportNamedDeclaration: (n) => check(n, n.source),
      ExportAllDeclaration: (n) => check(n, n.source),
      ImportExpression: (n) => check(n, n.source),
    };
  },
};

export default { rules: { 'tool-boundary': toolBoundary } };
