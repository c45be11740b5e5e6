// Run the rules over the facts of a set of files that together configure
// one or more machines: route order and reachability, MACs, shared IPs,
// pipex, crypto, L2TP without IPsec, and PF's skip on lo0.
import { prefixContains } from './address.js';
import type { FileFacts, RouteEvent } from './lint-facts.js';
import { rcConfRouting } from './lint-rc-conf.js';
import { RULES, type Finding } from './lint-rules.js';

export function analyze(all: readonly FileFacts[]): Finding[] {
  // FreeBSD's rc.conf files: their routes as rc.d/routing sees them all together.
  const rc = rcConfRouting(all);
  const out: Finding[] = [...rc.findings];
  const files = [...all, ...(rc.view === undefined ? [] : [rc.view])].sort((a, b) => a.rank - b.rank);
  const events: RouteEvent[] = files.flatMap((f) => f.routes);
  const addrs = events.filter((e) => e.kind === 'addr');
  events.forEach((e, i) => {
    if (e.kind !== 'default' || e.onlink) return;
    if (addrs.some((a) => prefixContains(a.prefix, e.gateway))) return;
    const onlinks = events.map((x, j) => ({ x, j })).filter(({ x }) => x.kind === 'onlink' && x.dest === e.gateway);
    if (onlinks.some(({ j }) => j < i)) return;
    const later = onlinks[0];
    if (later !== undefined) {
      out.push({
        rule: 'route-order',
        message: `default route via ${e.gateway} comes before the on-link route to it (${later.x.file}:${String(later.x.line)}); the kernel refuses it`,
        file: e.file,
        line: e.line,
      });
    } else {
      out.push({ rule: 'gateway-unreachable', message: `gateway ${e.gateway} is outside every configured prefix and no route makes it on-link`, file: e.file, line: e.line });
    }
  });
  for (const f of files) for (const n of f.nicsWithoutMac) out.push({ rule: 'mac-missing', message: 'guest NIC without mac=: the provider drops frames from a MAC it did not assign', ...n });
  const seenMac = new Map<string, { file: string; line: number }>();
  for (const m of files.flatMap((f) => f.macs)) {
    const first = seenMac.get(m.mac);
    if (first === undefined) seenMac.set(m.mac, m);
    else out.push({ rule: 'mac-duplicate', message: `MAC ${m.mac} is also used at ${first.file}:${String(first.line)}`, file: m.file, line: m.line });
  }
  const seenIp = new Map<string, { file: string; line: number }>();
  for (const a of addrs) {
    if (a.prefix.family !== 4) continue;
    const first = seenIp.get(a.prefix.address);
    if (first === undefined) seenIp.set(a.prefix.address, a);
    else if (first.file !== a.file) {
      out.push({ rule: 'ip-shared', message: `${a.prefix.address} is also assigned at ${first.file}:${String(first.line)}`, file: a.file, line: a.line });
    }
  }
  const pipexOn = files.some((f) => f.pipexEnabled.length > 0);
  for (const f of files) {
    for (const n of f.npppdPppx) {
      if (!pipexOn) out.push({ rule: 'pipex-disabled', message: `${RULES['pipex-disabled'].summary}; no sysctl.conf among these files sets it`, ...n });
    }
    for (const c of f.legacyCrypto) out.push({ rule: 'legacy-crypto', message: `${c.what} is in use: ${RULES['legacy-crypto'].summary}`, file: c.file, line: c.line });
    for (const p of f.pfL2tpPass) out.push({ rule: 'l2tp-without-ipsec', message: RULES['l2tp-without-ipsec'].summary, ...p });
    if (f.pfRedirectOnLo.length > 0) {
      for (const s of f.pfSkipLo) {
        const r = f.pfRedirectOnLo[0];
        out.push({ rule: 'skip-lo-redirect', message: `set skip on lo0 while line ${String(r?.line ?? 0)} redirects on lo0`, ...s });
      }
    }
  }
  return out.sort((a, b) => (a.file === b.file ? a.line - b.line : a.file.localeCompare(b.file)));
}
