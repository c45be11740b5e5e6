/**
 * `moat ifstated multiwan SPEC.yaml`: one state per set of working uplinks
 * (2^N states for N = 2..4), each with an `init` that loads one complete
 * ruleset for that set in a single step. The seed repeats "flush six anchors,
 * load six anchors" in every state, by hand; here the rules are generated
 * once per combination and each state loads its file atomically (pfctl -f on
 * one anchor, or nft -f with a table replaced in one transaction).
 */
import { MoatError } from '../core/index.js';
import type { MultiwanSpec, Uplink } from './multiwan-spec.js';

export interface GeneratedFile {
  path: string;
  content: string;
  mode?: number;
}

/** The state for a set of up uplinks: `up_isp1_isp2`, or `alldown`. */
export function stateName(up: readonly Uplink[]): string {
  return up.length === 0 ? 'alldown' : `up_${up.map((u) => u.name).join('_')}`;
}

function subsets<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let mask = (1 << items.length) - 1; mask >= 0; mask--) out.push(items.filter((_, i) => (mask & (1 << i)) !== 0));
  return out;
}

function validate(spec: MultiwanSpec): void {
  const names = new Set<string>();
  for (const u of spec.uplinks) {
    if (names.has(u.name)) throw new MoatError('MOAT_IFSTATED_SPEC', `uplinks: name '${u.name}' is used twice`);
    names.add(u.name);
  }
  const ifs = new Set(spec.uplinks.map((u) => u.interface));
  if (ifs.size !== spec.uplinks.length) throw new MoatError('MOAT_IFSTATED_SPEC', 'uplinks: two uplinks share an interface');
  if (ifs.has(spec.lan.interface)) throw new MoatError('MOAT_IFSTATED_SPEC', 'lan.interface is also an uplink');
  for (const p of spec.pinned) {
    if (!names.has(p.uplink)) throw new MoatError('MOAT_IFSTATED_SPEC', `pinned ${p.name}: no uplink named '${p.uplink}'`);
  }
  for (const d of spec.defaultRoute ?? []) {
    if (!names.has(d)) throw new MoatError('MOAT_IFSTATED_SPEC', `defaultRoute: no uplink named '${d}'`);
  }
  const req = spec.probe.require;
  for (const u of spec.uplinks) {
    const n = (u.probes ?? [u.gateway]).length;
    if (typeof req === 'number' && req > n) throw new MoatError('MOAT_IFSTATED_SPEC', `probe.require is ${String(req)} but uplink ${u.name} has ${String(n)} probe target(s)`);
  }
}

function probeCommand(spec: MultiwanSpec, u: Uplink, target: string): string {
  // OpenBSD ping(8): -w maxwait, -I sourceaddr. iputils ping(8): -W timeout, -I address.
  const wait = spec.backend === 'pf' ? `-w ${String(spec.probe.wait)}` : `-W ${String(spec.probe.wait)}`;
  const src = u.source === undefined ? '' : ` -I ${u.source}`;
  return `ping -q -c 1 ${wait}${src} ${target}`;
}

function testMacro(spec: MultiwanSpec, u: Uplink): string {
  const p = spec.probe;
  let ext = '';
  if (p.rise !== undefined) ext += ` rise ${String(p.rise)}`;
  if (p.fall !== undefined) ext += ` fall ${String(p.fall)}`;
  if (p.timeout !== undefined) ext += ` timeout ${String(p.timeout)}`;
  const tests = (u.probes ?? [u.gateway]).map((t) => `"${probeCommand(spec, u, t)}" every ${String(p.interval)}${ext}`);
  const need = p.require === 'any' ? 1 : p.require === 'all' ? tests.length : p.require;
  // k of n targets must answer: the OR of every k-subset's AND (mwan3's "reliability").
  const groups = subsets(tests).filter((s) => s.length === need);
  const text = groups.map((g) => (g.length === 1 ? (g[0] ?? '') : `( ${g.join(' && ')} )`)).join(' || ');
  return `( ${text} )`;
}

function routeCommand(spec: MultiwanSpec, up: readonly Uplink[]): string | undefined {
  const order = (spec.defaultRoute ?? spec.uplinks.map((u) => u.name)).map((n) => up.find((u) => u.name === n));
  const best = order.find((u) => u !== undefined) ?? up[0];
  if (best === undefined) return undefined;
  return spec.backend === 'pf' ? `route change default ${best.gateway}` : `ip route replace default via ${best.gateway} dev ${best.interface}`;
}

function pinnedUplink(up: readonly Uplink[], want: string): Uplink | undefined {
  return up.find((u) => u.name === want) ?? up[0];
}

/** pf.conf(5) rules for one anchor: NAT, balancing, pinned traffic, reply routing. */
export function pfAnchor(spec: MultiwanSpec, up: readonly Uplink[]): string {
  const lan = spec.lan;
  const lines = [`# moat ifstated multiwan: state ${stateName(up)}; loaded with pfctl -a multiwan -f`];
  for (const u of up) lines.push(`match out on ${u.interface} from ${lan.network} nat-to (${u.interface})`);
  if (up.length > 1) {
    lines.push(`pass in on ${lan.interface} from ${lan.network} route-to { ${up.map((u) => `(${u.interface} ${u.gateway})`).join(', ')} } round-robin`);
  } else if (up[0] !== undefined) {
    lines.push(`pass in on ${lan.interface} from ${lan.network} route-to (${up[0].interface} ${up[0].gateway})`);
  }
  for (const p of spec.pinned) {
    const u = pinnedUplink(up, p.uplink);
    if (u !== undefined) lines.push(`pass in on ${lan.interface} proto ${p.proto} from ${lan.network} to port ${String(p.port)} route-to (${u.interface} ${u.gateway})`);
  }
  for (const a of up) {
    for (const b of up) if (a !== b) lines.push(`pass out on ${a.interface} from ${b.interface} route-to (${b.interface} ${b.gateway})`);
  }
  return `${lines.join('\n')}\n`;
}

const mark = (spec: MultiwanSpec, u: Uplink): string => `0x${(0x101 + spec.uplinks.indexOf(u)).toString(16)}`;

/** nft(8) ruleset for one state: the table is replaced in one transaction. */
export function nftRuleset(spec: MultiwanSpec, up: readonly Uplink[]): string {
  const lan = spec.lan;
  const from = `iifname "${lan.interface}" ip saddr ${lan.network}`;
  const pre: string[] = [];
  for (const p of spec.pinned) {
    const u = pinnedUplink(up, p.uplink);
    if (u !== undefined) pre.push(`${from} ct state new ${p.proto} dport ${String(p.port)} ct mark set ${mark(spec, u)}`);
  }
  if (up.length > 0) {
    const map = up.map((u, i) => `${String(i)} : ${mark(spec, u)}`).join(', ');
    pre.push(`${from} ct state new ct mark 0x0 ct mark set numgen inc mod ${String(up.length)} map { ${map} }`);
    pre.push(`${from} meta mark set ct mark`);
  }
  const post = up.map((u) => `oifname "${u.interface}" ip saddr ${lan.network} masquerade`);
  const body = [
    `# moat ifstated multiwan: state ${stateName(up)}; loaded with nft -f`,
    'table ip moat_multiwan',
    'delete table ip moat_multiwan',
    'table ip moat_multiwan {',
    '\tchain prerouting {',
    '\t\ttype filter hook prerouting priority mangle; policy accept;',
    ...pre.map((r) => `\t\t${r}`),
    '\t}',
    '\tchain postrouting {',
    '\t\ttype nat hook postrouting priority srcnat; policy accept;',
    ...post.map((r) => `\t\t${r}`),
    '\t}',
    '}',
  ];
  return `${body.join('\n')}\n`;
}

/** One routing table per uplink for the fwmarks the nft rulesets set. */
function linuxRoutes(spec: MultiwanSpec): string {
  const lines = ['#!/bin/sh', '# moat ifstated multiwan: policy routing for the nftables backend; run once at boot.', 'set -e'];
  spec.uplinks.forEach((u, i) => {
    const table = String(101 + i);
    lines.push(`ip route replace default via ${u.gateway} dev ${u.interface} table ${table}`);
    lines.push(`ip rule del fwmark ${mark(spec, u)} table ${table} 2>/dev/null || true`);
    lines.push(`ip rule add fwmark ${mark(spec, u)} table ${table}`);
  });
  return `${lines.join('\n')}\n`;
}

export function generateMultiwan(spec: MultiwanSpec, specFile: string): GeneratedFile[] {
  validate(spec);
  const links = spec.uplinks;
  const states = subsets(links);
  const dir = spec.installDir.replace(/\/+$/, '');
  const files: GeneratedFile[] = [];
  const conf = [`# generated by moat ifstated multiwan from ${specFile}; edit the spec, not this file`, ''];
  for (const u of links) conf.push(`${u.name} = '${testMacro(spec, u)}'`);
  conf.push('', `init-state ${stateName(links)}`);
  for (const up of states) {
    const name = stateName(up);
    const load = spec.backend === 'pf' ? `pfctl -a multiwan -f ${dir}/pf/${name}.conf` : `nft -f ${dir}/nft/${name}.nft`;
    const route = routeCommand(spec, up);
    conf.push('', `state ${name} {`, '\tinit {', `\t\trun "${load}"`);
    if (route !== undefined) conf.push(`\t\trun "${route}"`);
    conf.push('\t}');
    // One uplink changes per step; level-triggered evaluation converges when several do.
    for (const u of links) {
      const isUp = up.includes(u);
      const next = isUp ? up.filter((x) => x !== u) : links.filter((x) => up.includes(x) || x === u);
      conf.push(`\tif ${isUp ? '! ' : ''}$${u.name}`, `\t\tset-state ${stateName(next)}`);
    }
    conf.push('}');
    if (spec.backend === 'pf') files.push({ path: `pf/${name}.conf`, content: pfAnchor(spec, up) });
    else files.push({ path: `nft/${name}.nft`, content: nftRuleset(spec, up) });
  }
  files.unshift({ path: 'ifstated.conf', content: `${conf.join('\n')}\n`, mode: 0o600 });
  if (spec.backend === 'pf') {
    files.push({ path: 'pf.conf.fragment', content: `# Add to pf.conf after your block and general pass rules:\nanchor "multiwan"\n` });
  } else {
    files.push({ path: 'routes.sh', content: linuxRoutes(spec), mode: 0o755 });
  }
  return files;
}
