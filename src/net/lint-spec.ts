// `moat net check SPEC.yaml`: the rules that can be judged from the spec
// itself (MACs, shared IPs, pipex, crypto, an unreachable gateway), then the
// file rules over what every target renders from it, as a self-check.
import { LineCounter, parseDocument } from 'yaml';
import { parsePrefixed, prefixContains } from './address.js';
import { analyze } from './lint-analyze.js';
import { parseFile } from './lint-parse.js';
import type { Finding } from './lint-rules.js';
import { renderSpec } from './render.js';
import { LEGACY_APPLE_WARNING } from './render-openbsd-vpn.js';
import { TARGETS } from './render-types.js';
import { guestGateway, type NetSpec } from './spec-schema.js';

export function lintSpec(spec: NetSpec, text: string, file: string): Finding[] {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc });
  const lineOf = (...path: (string | number)[]): number => {
    for (let n = path.length; n > 0; n--) {
      const node: unknown = doc.getIn(path.slice(0, n), true);
      if (node !== null && typeof node === 'object' && 'range' in node && Array.isArray(node.range)) {
        return lc.linePos(Number(node.range[0])).line;
      }
    }
    return 1;
  };
  const out: Finding[] = [];
  const macs = new Map<string, number>();
  const fips = new Map<string, number>();
  spec.failover.forEach((f, i) => {
    if (f.mac === undefined) out.push({ rule: 'mac-missing', message: `failover IP ${f.ip} has no MAC`, file, line: lineOf('failover', i) });
    else {
      const m = f.mac.toLowerCase();
      const first = macs.get(m);
      if (first !== undefined) out.push({ rule: 'mac-duplicate', message: `MAC ${f.mac} is also given at line ${String(first)}`, file, line: lineOf('failover', i, 'mac') });
      else macs.set(m, lineOf('failover', i, 'mac'));
    }
    const firstIp = fips.get(f.ip);
    if (firstIp !== undefined) out.push({ rule: 'ip-shared', message: `failover IP ${f.ip} is listed twice (line ${String(firstIp)})`, file, line: lineOf('failover', i, 'ip') });
    else fips.set(f.ip, lineOf('failover', i, 'ip'));
  });
  const used = new Map<string, string>();
  spec.guests.forEach((g, i) => {
    const p = parsePrefixed(g.ip);
    const ip = p?.address ?? g.ip;
    const other = used.get(ip);
    if (other !== undefined) out.push({ rule: 'ip-shared', message: `${ip} is used by guests ${other} and ${g.name}`, file, line: lineOf('guests', i, 'ip') });
    else used.set(ip, g.name);
    if (!spec.failover.some((f) => f.ip === ip)) {
      out.push({ rule: 'mac-missing', message: `guest ${g.name}: ${ip} is not among the failover IPs, so it has no MAC`, file, line: lineOf('guests', i, 'ip') });
    }
    const gw = guestGateway(spec, g);
    if (p !== undefined && !g.gatewayOnLink && !prefixContains(p, gw)) {
      out.push({ rule: 'gateway-unreachable', message: `guest ${g.name}: gateway ${gw} is outside ${g.ip} and gatewayOnLink is false`, file, line: lineOf('guests', i, 'gatewayOnLink') });
    }
  });
  if (spec.vpn !== undefined) {
    if (spec.vpn.crypto === 'legacy-apple') out.push({ rule: 'legacy-crypto', message: LEGACY_APPLE_WARNING, file, line: lineOf('vpn', 'crypto') });
    if (!spec.vpn.pipex) out.push({ rule: 'pipex-disabled', message: 'vpn.pipex is false but npppd uses pppx(4): OpenBSD 5.8 panics on the first session', file, line: lineOf('vpn', 'pipex') });
  }
  // The file rules over every target's output, with every guest in every form.
  const seen = new Set<string>(out.map((f) => f.rule));
  for (const target of TARGETS) {
    let rendered;
    try {
      rendered = renderSpec(spec, { target, guests: spec.guests.map((g) => g.name) });
    } catch {
      // Nothing to render for this target (MOAT_NET_NOTHING): nothing to lint either.
      continue;
    }
    const facts = rendered.files.map((f) => parseFile(f.path, f.content));
    for (const f of analyze(facts)) {
      // Already reported against the spec's own lines.
      if (seen.has(f.rule)) continue;
      out.push({ ...f, file: `${file} → ${target}:${f.file}` });
    }
  }
  return out;
}
