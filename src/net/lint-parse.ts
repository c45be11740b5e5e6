// Read one configuration file of any format moat net renders (or a person
// wrote) and gather its lint facts. The format is told by the file's name,
// as the system itself finds it (lint-kind.ts): hostname.vio0, ifconfig.vioif0,
// route.conf, rc.conf, pf.conf, ipsec.conf, npppd.conf, sysctl.conf,
// interfaces, *.yaml (netplan), *.network (networkd), swanctl.conf, and shell
// scripts; `check --os` reads the kind from the content for other names.
import { isMap, isSeq, isScalar, LineCounter, parseDocument, type Node } from 'yaml';
import { netmaskLength, parsePrefixed } from './address.js';
import { bsdIfconfigArgs, bsdRouteArgs, shellCommand, words } from './lint-commands.js';
import { emptyFacts, type FileFacts } from './lint-facts.js';
import { kindByName, type FileKind } from './lint-kind.js';
import { FREEBSD_CURRENT } from './freebsd-routing-order.js';
import { parseRcConf } from './lint-rc-conf.js';

/** Boot order: interface files, then static routes, then local scripts. */
function rankOf(kind: FileKind): number {
  return kind === 'route.conf' ? 1 : kind === 'shell' ? 2 : 0;
}

/** Lines without comments, with backslash continuations joined; each keeps its first line number. */
export function logicalLines(text: string, comment = /(^|\s)#.*$/): { text: string; line: number }[] {
  const out: { text: string; line: number }[] = [];
  const raw = text.split('\n');
  for (let i = 0; i < raw.length; i++) {
    const start = i + 1;
    let s = (raw[i] ?? '').replace(/\r$/, '');
    while (s.endsWith('\\') && i + 1 < raw.length) {
      i++;
      s = `${s.slice(0, -1)} ${(raw[i] ?? '').replace(/\r$/, '')}`;
    }
    const t = s.replace(comment, '').trim();
    if (t !== '') out.push({ text: t, line: start });
  }
  return out;
}

/** What the files are checked for: the target of `check --os` and the release it runs. */
export interface CheckContext {
  /** The kind, when the caller judged it (check --os); else told by the name, a shell script when the name says nothing. */
  readonly kind?: FileKind;
  /** The system's release; FreeBSD's route order depends on it (FREEBSD_CURRENT when absent). */
  readonly release?: string;
}

export function parseFile(path: string, text: string, context: CheckContext = {}): FileFacts {
  const kind = context.kind ?? kindByName(path) ?? 'shell';
  const facts = emptyFacts(path, rankOf(kind));
  switch (kind) {
    case 'hostname.if':
    case 'ifconfig.if':
      for (const l of logicalLines(text)) {
        if (l.text.startsWith('!')) shellCommand(l.text.slice(1), facts, l.line);
        else if (/^(inet|\d)/.test(l.text)) bsdIfconfigArgs(words(l.text), facts, l.line);
        else if (l.text.startsWith('dest ')) {
          // hostname.if(5): "dest" sets the point-to-point peer, which is then on-link.
          const peer = words(l.text)[1];
          if (peer !== undefined) facts.routes.push({ kind: 'onlink', dest: peer, file: path, line: l.line });
        }
      }
      break;
    case 'route.conf':
      for (const l of logicalLines(text)) {
        if (l.text.startsWith('!') || l.text.startsWith('-')) continue;
        const t = l.text.startsWith('+') ? l.text.slice(1) : l.text;
        // route.conf(5): each line is passed behind "route add -".
        if (!l.text.startsWith('+')) bsdRouteArgs(words(`-${t}`), facts, l.line);
        else shellCommand(t, facts, l.line);
      }
      break;
    case 'rc.conf':
      parseRcConf(logicalLines(text), facts, context.release ?? FREEBSD_CURRENT);
      break;
    case 'pf.conf':
      parsePf(text, facts);
      break;
    case 'ipsec.conf':
    case 'swanctl.conf':
      for (const l of logicalLines(text)) {
        const m = /\b(3des|modp1024)\b/i.exec(l.text);
        if (m !== null) facts.legacyCrypto.push({ what: m[1] ?? '', file: path, line: l.line });
      }
      break;
    case 'npppd.conf':
      for (const l of logicalLines(text)) if (/^interface\s+pppx\d+/.test(l.text)) facts.npppdPppx.push({ file: path, line: l.line });
      break;
    case 'sysctl.conf':
      for (const l of logicalLines(text)) {
        const m = /^net\.pipex\.enable\s*=\s*(\d+)/.exec(l.text);
        if (m !== null) (m[1] === '0' ? facts.pipexDisabled : facts.pipexEnabled).push({ file: path, line: l.line });
      }
      break;
    case 'interfaces':
      parseInterfaces(text, facts);
      break;
    case 'netplan':
      parseNetplan(text, facts);
      break;
    case 'networkd':
      parseNetworkd(text, facts);
      break;
    case 'shell':
      for (const l of logicalLines(text)) shellCommand(l.text, facts, l.line);
      break;
    case 'ignored':
      break;
  }
  return facts;
}

function parsePf(text: string, facts: FileFacts): void {
  const macros = new Map<string, string>();
  for (const l of logicalLines(text)) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"([^"]*)"/.exec(l.text);
    if (m?.[1] !== undefined) {
      macros.set(m[1], m[2] ?? '');
      continue;
    }
    const t = l.text.replace(/\$([A-Za-z_][A-Za-z0-9_]*)/g, (_, n: string) => macros.get(n) ?? '');
    const onLo = /\bon\s+(\{[^}]*\blo\d*\b[^}]*\}|lo\d*\b)/.test(t);
    if (/^set\s+skip\s+on\b/.test(t) && /\blo\d*\b/.test(t)) facts.pfSkipLo.push({ file: facts.file, line: l.line });
    if ((/^rdr\b/.test(t) || /\brdr-to\b/.test(t)) && onLo) facts.pfRedirectOnLo.push({ file: facts.file, line: l.line });
    if (/^pass\b/.test(t) && /\bport\s*(=\s*)?(\{[^}]*\b(1701|l2tp)\b[^}]*\}|(1701|l2tp)\b)/.test(t) && !/\bon\s+enc\d*\b/.test(t)) {
      facts.pfL2tpPass.push({ file: facts.file, line: l.line });
    }
  }
}

/** interfaces(5): per stanza the address, pointopoint and gateway, then the up commands in order. */
function parseInterfaces(text: string, facts: FileFacts): void {
  let pending: { addr?: { v: string; line: number }; mask?: string; ptp?: { v: string; line: number }; gw?: { v: string; line: number }; ups: { v: string; line: number }[] } | undefined;
  const flush = (): void => {
    if (pending === undefined) return;
    const a = pending.addr;
    if (a !== undefined) {
      let p = parsePrefixed(a.v);
      if (p !== undefined && !a.v.includes('/') && pending.mask !== undefined) {
        const len = /^\d{1,3}$/.test(pending.mask) ? Number(pending.mask) : netmaskLength(pending.mask);
        if (len !== undefined && !Number.isNaN(len)) p = { ...p, length: len };
      }
      if (p !== undefined) facts.routes.push({ kind: 'addr', prefix: p, file: facts.file, line: a.line });
    }
    if (pending.ptp !== undefined) facts.routes.push({ kind: 'onlink', dest: pending.ptp.v, file: facts.file, line: pending.ptp.line });
    if (pending.gw !== undefined) facts.routes.push({ kind: 'default', gateway: pending.gw.v, onlink: false, file: facts.file, line: pending.gw.line });
    for (const u of pending.ups) shellCommand(u.v, facts, u.line);
    pending = undefined;
  };
  for (const l of logicalLines(text)) {
    const [key = '', ...rest] = words(l.text);
    const value = rest.join(' ');
    if (key === 'iface') {
      flush();
      pending = { ups: [] };
    } else if (['auto', 'allow-hotplug', 'mapping', 'source', 'source-directory'].includes(key)) {
      flush();
    } else if (pending !== undefined) {
      if (key === 'address') pending.addr = { v: value, line: l.line };
      else if (key === 'netmask') pending.mask = value;
      else if (key === 'pointopoint') pending.ptp = { v: value, line: l.line };
      else if (key === 'gateway') pending.gw = { v: value, line: l.line };
      else if (['up', 'post-up'].includes(key)) pending.ups.push({ v: value, line: l.line });
    }
  }
  flush();
}

/** netplan: addresses, then routes (on-link ones first: networkd does not order them). */
function parseNetplan(text: string, facts: FileFacts): void {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc });
  if (doc.errors.length > 0) return;
  const lineOf = (n: Node | null | undefined): number => (n?.range ? lc.linePos(n.range[0]).line : 1);
  const network = doc.get('network', true);
  if (!isMap(network)) return;
  const later: (() => void)[] = [];
  for (const group of ['ethernets', 'bridges', 'bonds', 'vlans', 'tunnels']) {
    const ifs = network.get(group, true);
    if (!isMap(ifs)) continue;
    for (const item of ifs.items) {
      const conf = item.value;
      if (!isMap(conf)) continue;
      const addrs = conf.get('addresses', true);
      if (isSeq(addrs)) {
        for (const a of addrs.items) {
          const p = isScalar(a) ? parsePrefixed(String(a.value)) : undefined;
          if (p !== undefined && isScalar(a)) facts.routes.push({ kind: 'addr', prefix: p, file: facts.file, line: lineOf(a) });
        }
      }
      for (const key of ['gateway4', 'gateway6']) {
        const g = conf.get(key, true);
        if (isScalar(g)) later.push(() => facts.routes.push({ kind: 'default', gateway: String(g.value), onlink: false, file: facts.file, line: lineOf(g) }));
      }
      const routes = conf.get('routes', true);
      if (!isSeq(routes)) continue;
      for (const r of routes.items) {
        if (!isMap(r)) continue;
        const toNode: unknown = r.get('to');
        const viaNode: unknown = r.get('via');
        const to = typeof toNode === 'string' ? toNode : '';
        const via = typeof viaNode === 'string' ? viaNode : undefined;
        const onlink = r.get('on-link') === true;
        if (['default', '0.0.0.0/0', '::/0'].includes(to) && via !== undefined) {
          later.push(() => facts.routes.push({ kind: 'default', gateway: via, onlink, file: facts.file, line: lineOf(r) }));
        } else if (via === undefined && to !== '') {
          facts.routes.push({ kind: 'onlink', dest: to.replace(/\/(32|128)$/, ''), file: facts.file, line: lineOf(r) });
        }
      }
    }
  }
  for (const f of later) f();
}

/** systemd.network(5): [Network] Address=/Gateway=, [Route] Gateway=/GatewayOnLink=/Destination=/Scope=. */
function parseNetworkd(text: string, facts: FileFacts): void {
  let section = '';
  let route: Record<string, { v: string; line: number }> = {};
  const defaults: (() => void)[] = [];
  const endRoute = (): void => {
    const gw = route.Gateway;
    const onlink = /^(yes|true|1|on)$/i.test(route.GatewayOnLink?.v ?? '');
    const dest = route.Destination?.v;
    if (gw !== undefined && (dest === undefined || ['0.0.0.0/0', '::/0'].includes(dest))) {
      defaults.push(() => facts.routes.push({ kind: 'default', gateway: gw.v, onlink, file: facts.file, line: gw.line }));
    } else if (gw === undefined && dest !== undefined) {
      facts.routes.push({ kind: 'onlink', dest: dest.replace(/\/(32|128)$/, ''), file: facts.file, line: route.Destination?.line ?? 1 });
    }
    route = {};
  };
  for (const l of logicalLines(text, /^\s*[#;].*$/)) {
    const sec = /^\[(\w+)\]$/.exec(l.text);
    if (sec !== null) {
      if (section === 'Route') endRoute();
      section = sec[1] ?? '';
      continue;
    }
    const kv = /^(\w+)\s*=\s*(.*)$/.exec(l.text);
    if (kv === null) continue;
    const key = kv[1] ?? '';
    const value = (kv[2] ?? '').trim();
    if (section === 'Network' && key === 'Address') {
      const p = parsePrefixed(value);
      if (p !== undefined) facts.routes.push({ kind: 'addr', prefix: p, file: facts.file, line: l.line });
    } else if (section === 'Network' && key === 'Gateway') {
      defaults.push(() => facts.routes.push({ kind: 'default', gateway: value, onlink: false, file: facts.file, line: l.line }));
    } else if (section === 'Route') {
      route[key] = { v: value, line: l.line };
    }
  }
  if (section === 'Route') endRoute();
  for (const d of defaults) d();
}
