/**
 * The rules of a multiwan spec that a schema of single fields cannot say:
 * names that must be unique or must name an uplink. Each problem carries the
 * path of the field at fault, so the spec loader can point at its line; this
 * file imports no zod, so the daemon does not load it.
 */
import type { MultiwanSpec } from './multiwan-spec.js';

export interface SpecProblem {
  path: (string | number)[];
  message: string;
}

export function multiwanProblems(spec: MultiwanSpec): SpecProblem[] {
  const out: SpecProblem[] = [];
  const names = new Set<string>();
  const ifs = new Map<string, string>();
  spec.uplinks.forEach((u, i) => {
    if (names.has(u.name)) out.push({ path: ['uplinks', i, 'name'], message: `name '${u.name}' is used twice` });
    names.add(u.name);
    const other = ifs.get(u.interface);
    if (other !== undefined) out.push({ path: ['uplinks', i, 'interface'], message: `${u.interface} is also the interface of uplink ${other}` });
    else ifs.set(u.interface, u.name);
  });
  if (ifs.has(spec.lan.interface)) out.push({ path: ['lan', 'interface'], message: `${spec.lan.interface} is also an uplink's interface` });
  spec.pinned.forEach((p, i) => {
    if (!names.has(p.uplink)) out.push({ path: ['pinned', i, 'uplink'], message: `no uplink named '${p.uplink}'` });
  });
  (spec.defaultRoute ?? []).forEach((d, i) => {
    if (!names.has(d)) out.push({ path: ['defaultRoute', i], message: `no uplink named '${d}'` });
  });
  const req = spec.probe.require;
  if (typeof req === 'number') {
    for (const u of spec.uplinks) {
      const n = (u.probes ?? [u.gateway]).length;
      if (req > n) {
        out.push({ path: ['probe', 'require'], message: `${String(req)} probe targets must answer, but uplink ${u.name} has ${String(n)}` });
        break;
      }
    }
  }
  return out;
}
