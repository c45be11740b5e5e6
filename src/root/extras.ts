// `--with`: the files people find missing the first time a minimal root
// runs something real (the jailkit and distroless issue trackers are full of
// them): a passwd entry for the service user, /etc/hosts, time zones and CA
// certificates.
import { readFileSync } from 'node:fs';
import { MoatError, UsageError } from '../core/index.js';
import type { Tree } from './tree.js';

export interface Generated {
  dest: string;
  content: string;
  mode: number;
}

export interface Extras {
  generated: Generated[];
  /** In-source paths to copy with their symlink chains; directories are copied whole. */
  copy: string[];
}

/** A POSIX portable user name (POSIX.1-2017 §3.437), so it cannot smuggle `:` or a newline into passwd. */
const USER_RE = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;

const CERT_BUNDLES = [
  '/etc/ssl/certs/ca-certificates.crt', // Debian, Ubuntu, Alpine
  '/etc/pki/tls/certs/ca-bundle.crt', // Fedora, RHEL
  '/etc/ssl/cert.pem', // FreeBSD, OpenBSD, macOS
  '/usr/local/share/certs/ca-root-nss.crt', // FreeBSD ca_root_nss
];

function readSmallText(tree: Tree, path: string): string | undefined {
  const r = tree.resolve(path);
  if (r === undefined) return undefined;
  const st = tree.lstat(r.path);
  if (st?.isFile() !== true || st.size > 4 << 20) return undefined;
  return readFileSync(tree.host(r.path), 'utf8');
}

/** uid and gid of a user from the tree's /etc/passwd. */
function lookupUser(tree: Tree, user: string): { uid: number; gid: number } | undefined {
  const text = readSmallText(tree, '/etc/passwd') ?? '';
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === user && f.length >= 4) {
      const uid = Number(f[2]);
      const gid = Number(f[3]);
      if (Number.isInteger(uid) && Number.isInteger(gid)) return { uid, gid };
    }
  }
  return undefined;
}

function groupName(tree: Tree, gid: number, fallback: string): string {
  const text = readSmallText(tree, '/etc/group') ?? '';
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[2] === String(gid) && f[0] !== undefined && USER_RE.test(f[0])) return f[0];
  }
  return fallback;
}

export function planExtras(items: readonly string[], tree: Tree): Extras {
  const out: Extras = { generated: [], copy: [] };
  for (const item of items) {
    const [what, arg] = splitOnce(item);
    switch (what) {
      case 'passwd': {
        if (arg === undefined) throw new UsageError("moat root build: --with passwd=USER[:UID:GID] needs a user", "try 'moat root build --help'");
        const parts = arg.split(':');
        const [user, uidText, gidText] = parts;
        if ((parts.length !== 1 && parts.length !== 3) || (parts.length === 3 && !(/^\d+$/.test(uidText ?? '') && /^\d+$/.test(gidText ?? '')))) {
          throw new UsageError(`moat root build: --with passwd wants USER or USER:UID:GID, not '${arg}'`, "try 'moat root build --help'");
        }
        if (user === undefined || !USER_RE.test(user)) throw new UsageError(`moat root build: '${arg}' is not a portable user name`, "try 'moat root build --help'");
        let ids = uidText !== undefined && gidText !== undefined ? { uid: Number(uidText), gid: Number(gidText) } : lookupUser(tree, user);
        if (ids !== undefined && (!Number.isInteger(ids.uid) || !Number.isInteger(ids.gid) || ids.uid < 0 || ids.gid < 0 || ids.uid > 0xfffffffe || ids.gid > 0xfffffffe)) ids = undefined;
        if (ids === undefined) throw new MoatError('MOAT_ROOT_NO_USER', `--with passwd: no user '${user}' in ${tree.top}/etc/passwd; say passwd=${user}:UID:GID`);
        const group = ids.gid === 0 ? 'root' : groupName(tree, ids.gid, user);
        const passwd = ['root:x:0:0:root:/:/nonexistent'];
        const groups = ['root:x:0:'];
        if (user !== 'root') {
          passwd.push(`${user}:x:${ids.uid}:${ids.gid}:${user}:/nonexistent:/nonexistent`);
          if (ids.gid !== 0) groups.push(`${group}:x:${ids.gid}:`);
        }
        out.generated.push({ dest: '/etc/passwd', content: `${passwd.join('\n')}\n`, mode: 0o644 });
        out.generated.push({ dest: '/etc/group', content: `${groups.join('\n')}\n`, mode: 0o644 });
        break;
      }
      case 'hosts': {
        out.generated.push({ dest: '/etc/hosts', content: '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n', mode: 0o644 });
        // nsswitch.conf(5): without it glibc falls back to its compiled-in defaults, which try NIS.
        out.generated.push({ dest: '/etc/nsswitch.conf', content: 'passwd: files\ngroup: files\nhosts: files dns\nservices: files\n', mode: 0o644 });
        const resolv = readSmallText(tree, '/etc/resolv.conf');
        if (resolv !== undefined) out.generated.push({ dest: '/etc/resolv.conf', content: resolv, mode: 0o644 });
        break;
      }
      case 'tzdata': {
        for (const p of ['/usr/share/zoneinfo', '/etc/localtime', '/etc/timezone']) if (tree.resolve(p, false) !== undefined) out.copy.push(p);
        break;
      }
      case 'certs': {
        const found = CERT_BUNDLES.filter((p) => tree.resolve(p) !== undefined);
        if (found.length === 0) throw new MoatError('MOAT_ROOT_NO_CERTS', `--with certs: no CA bundle in ${tree.top} (looked for ${CERT_BUNDLES.join(', ')})`);
        out.copy.push(...found);
        break;
      }
      default:
        throw new UsageError(`moat root build: --with takes passwd=USER, hosts, tzdata or certs, not '${item}'`, "try 'moat root build --help'");
    }
  }
  return out;
}

function splitOnce(s: string): [string, string | undefined] {
  const i = s.indexOf('=');
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}
