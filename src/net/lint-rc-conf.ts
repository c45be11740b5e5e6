// FreeBSD's rc.conf(5) files as its rc.d scripts see them. rc.subr's
// load_rc_config NAME sources /etc/rc.conf and /etc/rc.conf.local
// (source_rc_confs) and then /etc/rc.conf.d/NAME, for the calling script's own
// NAME only, all into one shell: a later assignment replaces an earlier one,
// and "$var" is expanded when the line is sourced.
//
// The routes are judged as rc.d/routing sees them, whichever of those files
// holds each variable (defaultrouter in rc.conf, static_routes in
// rc.conf.d/routing is one configuration); a variable in an rc.conf.d file
// whose script does not use it is read by nothing that would act on it.
import { basename } from 'node:path';
import { defaultrouterLast } from './freebsd-routing-order.js';
import { bsdIfconfigArgs, bsdRouteArgs, words } from './lint-commands.js';
import { emptyFacts, type FileFacts, type RcVar, type RouteEvent } from './lint-facts.js';
import type { Finding } from './lint-rules.js';

/** Lines without comments, with backslash continuations joined (as logicalLines in lint-parse). */
type Lines = readonly { text: string; line: number }[];

const ASSIGN = /^([A-Za-z_][A-Za-z0-9_]*)=(?:"([^"]*)"|'([^']*)'|(\S*))/;

function expand(value: string, vars: ReadonlyMap<string, RcVar>): string {
  return value.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, n: string) => vars.get(n)?.value ?? '');
}

/** Each assignment, its value expanded as sh does when sourcing, in order. */
function assignments(lines: Lines, file: string, before: ReadonlyMap<string, RcVar>): RcVar[] {
  const vars = new Map(before);
  const out: RcVar[] = [];
  for (const l of lines) {
    const m = ASSIGN.exec(l.text);
    if (m?.[1] === undefined) continue;
    // Single quotes keep "$x" as it is; double quotes and bare words expand it.
    const value = m[3] ?? expand(m[2] ?? m[4] ?? '', vars);
    const v: RcVar = { name: m[1], value, file, line: l.line };
    vars.set(v.name, v);
    out.push(v);
  }
  return out;
}

/** The rc.d script an rc.conf.d file belongs to (rc.conf.d/NAME or rc.conf.d/NAME/*), or undefined for a global file. */
export function rcConfScript(path: string): string | undefined {
  const m = /(?:^|\/)rc\.conf\.d\/([^/]+)/.exec(path);
  return m?.[1];
}

/** One rc.conf-kind file: its assignments (kept for the routing view) and its addresses. */
export function parseRcConf(lines: Lines, facts: FileFacts, release: string): void {
  const vars = assignments(lines, facts.file, new Map());
  facts.rc = { lines, vars, release };
  // ifconfig_IF[_aliasN]: the addresses, wherever rc.d/netif reads them.
  for (const v of vars) {
    if (!/^ifconfig_[A-Za-z0-9_.]+(_alias\d+)?$/.test(v.name) || v.name.endsWith('_ipv6')) continue;
    const w = words(v.value);
    const at = w.indexOf('inet');
    if (at >= 0) bsdIfconfigArgs(w.slice(at + 1), facts, v.line);
  }
}

/** Route variables: read by rc.d/routing (static_inet, static_inet6). */
const ROUTE_VAR = /^(defaultrouter|static_routes|route_\w+|ipv6_defaultrouter|ipv6_static_routes|ipv6_route_\w+)$/;
/** Interface variables: read by rc.d/netif (network.subr). */
const IF_VAR = /^(ifconfig_\w+|cloned_interfaces|create_args_\w+|network_interfaces|vlans_\w+|wlans_\w+)$/;
/** What each script that loads rc.conf.d/NAME acts on (libexec/rc/rc.d/netif loads "network" and "netif"). */
const READS: Readonly<Record<string, RegExp>> = { netif: IF_VAR, network: IF_VAR, routing: ROUTE_VAR };

/** Global files first (rc.conf before rc.conf.local, as source_rc_confs), then rc.conf.d/routing. */
function routingOrder(f: FileFacts): number {
  if (rcConfScript(f.file) !== undefined) return 2;
  return basename(f.file) === 'rc.conf.local' ? 1 : 0;
}

/**
 * The route events rc.d/routing produces from these files together, and the
 * findings for network variables in rc.conf.d files no script using them reads.
 */
export function rcConfRouting(files: readonly FileFacts[]): { view: FileFacts | undefined; findings: Finding[] } {
  const rcFiles = files.filter((f) => f.rc !== undefined);
  const findings: Finding[] = [];
  for (const f of rcFiles) {
    const script = rcConfScript(f.file);
    if (script === undefined) continue;
    const reads = READS[script];
    for (const v of f.rc?.vars ?? []) {
      if (!ROUTE_VAR.test(v.name) && !IF_VAR.test(v.name)) continue;
      if (reads?.test(v.name) === true) continue;
      const isRoute = ROUTE_VAR.test(v.name);
      const loader = script === 'network' || script === 'netif' ? 'only rc.d/netif loads this file' : script === 'routing' ? 'only rc.d/routing loads this file' : `only an rc.d script named ${script} would load this file`;
      const user = isRoute
        ? 'routes are added by rc.d/routing, which reads /etc/rc.conf, /etc/rc.conf.local and /etc/rc.conf.d/routing'
        : 'interfaces are set up by rc.d/netif, which reads /etc/rc.conf, /etc/rc.conf.local and /etc/rc.conf.d/netif (or network)';
      findings.push({
        rule: 'rc-conf-unread',
        message: `${v.name} in rc.conf.d/${script}: ${loader}; ${user}`,
        file: v.file,
        line: v.line,
      });
    }
  }
  const seen = rcFiles.filter((f) => {
    const s = rcConfScript(f.file);
    return s === undefined || s === 'routing';
  }).sort((a, b) => routingOrder(a) - routingOrder(b));
  const first = seen[0];
  if (first === undefined) return { view: undefined, findings };
  // One shell: later files' assignments replace earlier ones, each expanded as it is sourced.
  const vars = new Map<string, RcVar>();
  for (const f of seen) for (const v of assignments(f.rc?.lines ?? [], f.file, vars)) vars.set(v.name, v);
  const routes: RouteEvent[] = [];
  const add = (args: string[], v: RcVar): void => {
    const tmp = emptyFacts(v.file, 0);
    bsdRouteArgs(args, tmp, v.line);
    routes.push(...tmp.routes);
  };
  const def = vars.get('defaultrouter');
  const addDefault = (): void => {
    // rc.d/routing: case ${defaultrouter} in [Nn][Oo] | '') skip.
    if (def !== undefined && def.value !== '' && !/^no$/i.test(def.value)) add(['default', def.value], def);
  };
  // freebsd-routing-order.ts: defaultrouter before static_routes up to 9.x, after them from 10.0.
  const last = defaultrouterLast(first.rc?.release ?? '');
  if (!last) addDefault();
  const list = vars.get('static_routes');
  for (const r of words(list?.value ?? '')) {
    const v = vars.get(`route_${r}`);
    if (v !== undefined) add(words(v.value), v);
  }
  if (last) addDefault();
  const view = emptyFacts(first.file, 0);
  view.routes.push(...routes);
  return { view, findings };
}
