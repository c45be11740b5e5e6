// What kind of configuration file a file is: by its name, as the system
// itself finds it (hostname.vio0, rc.conf.d/routing, interfaces.d/eth0…),
// and, for a name no system reads, by its content. A file that is neither is
// refused, never passed as clean.
import { basename } from 'node:path';
import { isMap, parseDocument } from 'yaml';

export type FileKind =
  | 'hostname.if' | 'ifconfig.if' | 'route.conf' | 'rc.conf' | 'pf.conf' | 'ipsec.conf' | 'swanctl.conf'
  | 'npppd.conf' | 'sysctl.conf' | 'interfaces' | 'netplan' | 'networkd' | 'shell' | 'ignored';

export type Family = 'freebsd' | 'openbsd' | 'netbsd' | 'linux';

const ALL: readonly Family[] = ['freebsd', 'openbsd', 'netbsd', 'linux'];

/** The systems that read each kind, and the manual page a message names. */
const KINDS: Record<FileKind, { readonly readBy: readonly Family[]; readonly what: string }> = {
  'hostname.if': { readBy: ['openbsd'], what: 'hostname.if(5)' },
  'ifconfig.if': { readBy: ['netbsd'], what: 'ifconfig.if(5)' },
  'route.conf': { readBy: ['netbsd'], what: 'route.conf(5)' },
  'rc.conf': { readBy: ['freebsd', 'openbsd', 'netbsd'], what: 'rc.conf(5)' },
  'pf.conf': { readBy: ['freebsd', 'openbsd', 'netbsd'], what: 'pf.conf(5)' },
  'ipsec.conf': { readBy: ['openbsd'], what: 'ipsec.conf(5)' },
  'swanctl.conf': { readBy: ALL, what: 'swanctl.conf(5)' },
  'npppd.conf': { readBy: ['openbsd'], what: 'npppd.conf(5)' },
  'sysctl.conf': { readBy: ALL, what: 'sysctl.conf(5)' },
  interfaces: { readBy: ['linux'], what: 'interfaces(5)' },
  netplan: { readBy: ['linux'], what: 'netplan YAML' },
  networkd: { readBy: ['linux'], what: 'systemd.network(5)' },
  shell: { readBy: ALL, what: 'a shell script' },
  ignored: { readBy: ALL, what: 'a file with no network rules' },
};

/** The names `check` knows, for messages. */
export const KNOWN_NAMES =
  'hostname.IF, ifconfig.IF, route.conf, rc.conf, rc.conf.local, rc.conf.d/*, netstart.local, pf.conf, ipsec.conf, npppd.conf, ' +
  'sysctl.conf, interfaces, interfaces.d/*, netplan *.yaml, *.network, swanctl.conf, *.sh';

/** The kind a system gives a file by its name, or undefined for a name it does not read. */
export function kindByName(path: string): FileKind | undefined {
  const name = basename(path);
  const dir = basename(path.slice(0, Math.max(0, path.length - name.length - 1)));
  if (/^hostname\..+/.test(name)) return 'hostname.if';
  if (/^ifconfig\..+/.test(name)) return 'ifconfig.if';
  if (name === 'route.conf') return 'route.conf';
  if (['npppd-users', 'chap-secrets', 'xl2tpd.conf'].includes(name) || name.startsWith('options.') || name.endsWith('.netdev')) return 'ignored';
  // rc.conf(5), rc.conf.local, and rc.subr's /etc/rc.conf.d/NAME (or rc.conf.d/NAME/*).
  if (name === 'rc.conf' || name === 'rc.conf.local' || dir === 'rc.conf.d' || path.includes('rc.conf.d/')) return 'rc.conf';
  // pf.conf, and an anchor file loaded from it (pf.NAME.conf).
  if (name.endsWith('pf.conf') || /^pf\..+\.conf$/.test(name)) return 'pf.conf';
  if (name === 'ipsec.conf') return 'ipsec.conf';
  if (name.endsWith('.conf') && (name.startsWith('swanctl') || path.includes('swanctl/'))) return 'swanctl.conf';
  if (name === 'npppd.conf') return 'npppd.conf';
  if (name === 'sysctl.conf') return 'sysctl.conf';
  if (name === 'interfaces' || dir === 'interfaces.d') return 'interfaces';
  if (/\.ya?ml$/.test(name)) return 'netplan';
  if (name.endsWith('.network')) return 'networkd';
  // NetBSD's netstart.local and rc.local are run by sh; so is any *.sh.
  if (name === 'netstart.local' || name === 'rc.local' || name.endsWith('.sh')) return 'shell';
  return undefined;
}

/** hostname.if(5) / ifconfig.if(5) lines: address lines, ifconfig keywords, "!" commands. */
const IF_LINE = /^(!|inet6?\s|inet6?$|-?inet6\b|dhcp\b|autoconf\b|up$|down$|dest\s|tunnel\s|mtu\s|description\s|lladdr\s|media(opt)?\s|group\s|create$|rdomain\s|alias\s|\d)/;
/** The commands a shell script is linted for. */
const COMMAND = /^(exec\s+)?(\S*\/)?(route|ifconfig|ip|bhyve|qemu-system-\S+)(\s|$)/;

/** The kind a file's content shows, or undefined when it shows none. */
export function kindByContent(text: string, family?: Family): FileKind | undefined {
  if (text.startsWith('#!')) return 'shell';
  const ls = text
    .split('\n')
    .map((l) => l.replace(/\r$/, '').replace(/(^|\s)[#;].*$/, '').trim())
    .filter((l) => l !== '');
  if (ls.length === 0) return undefined;
  if (ls.some((l) => /^\[(Match|Network|Route|Address|Link)\]$/.test(l))) return 'networkd';
  if (ls.some((l) => /^\[(NetDev|Tunnel)\]$/.test(l))) return 'ignored';
  if (ls.some((l) => /^(iface|auto|allow-hotplug|source-directory)\s/.test(l))) return 'interfaces';
  if (/^network\s*:/m.test(text) && isNetplan(text)) return 'netplan';
  if (ls.every((l) => /^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)+\s*=/.test(l))) return 'sysctl.conf';
  if (ls.every((l) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(l))) return 'rc.conf';
  if (ls.some((l) => /^(pass|block|match|antispoof|anchor|rdr|nat|binat|set\s+skip)\b/.test(l))) return 'pf.conf';
  if (ls.some((l) => /^(ike|flow)\s/.test(l))) return 'ipsec.conf';
  if (ls.some((l) => /^connections\s*\{/.test(l))) return 'swanctl.conf';
  if (ls.some((l) => /^(bind\s+tunnel|tunnel\s+\S+\s+protocol\s|ipcp\s)/.test(l))) return 'npppd.conf';
  if (ls.every((l) => IF_LINE.test(l))) return family === 'netbsd' ? 'ifconfig.if' : 'hostname.if';
  if (ls.some((l) => COMMAND.test(l))) return 'shell';
  return undefined;
}

function isNetplan(text: string): boolean {
  const doc = parseDocument(text);
  return doc.errors.length === 0 && isMap(doc.contents) && doc.contents.has('network');
}

export type KindVerdict = { readonly kind: FileKind; readonly why?: undefined } | { readonly kind?: undefined; readonly why: string };

/**
 * The kind of a file `check --os` was given: by its name, else by its
 * content, which must be of a kind the target's system reads.
 */
export function judgeKind(path: string, text: string, family: Family): KindVerdict {
  const byName = kindByName(path);
  if (byName !== undefined) return { kind: byName };
  const byContent = kindByContent(text, family);
  if (byContent === undefined) {
    return { why: `cannot tell what kind of file this is: not a name check knows (${KNOWN_NAMES}), and its content is none of those kinds` };
  }
  if (!KINDS[byContent].readBy.includes(family)) {
    return { why: `its content is ${KINDS[byContent].what}, which ${family} does not read` };
  }
  return { kind: byContent };
}

/** The manual page or description of a kind, for messages. */
export function kindName(kind: FileKind): string {
  return KINDS[kind].what;
}
