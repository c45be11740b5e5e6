// Libraries load other libraries with dlopen(3) that no ELF header names, so
// no closure can find them. These are the ones that bite minimal roots most
// often; we can only warn (or, with --trace, watch the program run).
import type { LoadedObject } from './resolver.js';

interface Hint {
  /** Applies when a library with this SONAME prefix is in the closure. */
  when: string;
  /** ...and no file whose base name starts with this is in the root. */
  unless?: string;
  text: string;
}

const HINTS: readonly Hint[] = [
  { when: 'libc.so.6', unless: 'libgcc_s.so', text: 'glibc dlopens libgcc_s.so.1 for pthread_cancel(3) and backtrace(3); add it with --file if the program uses either' },
  { when: 'libc.so.6', text: 'glibc loads NSS modules (libnss_*.so.2) named in /etc/nsswitch.conf for user and host lookups; files and dns are built in since glibc 2.34 (--with passwd, --with hosts)' },
  { when: 'libc.so.6', text: 'glibc iconv(3) loads gconv modules from the gconv directory (gconv-modules, *.so) for any charset other than UTF-8 and ASCII' },
  { when: 'libcrypto.so.3', text: 'OpenSSL 3 loads providers (ossl-modules/legacy.so, fips.so) and engines at run time, and reads openssl.cnf' },
  { when: 'libcrypto.so.1', text: 'OpenSSL 1.1 loads engines (engines-1.1/*.so) at run time, and reads openssl.cnf' },
  { when: 'libpam.so', text: 'PAM loads the modules its /etc/pam.d files name (security/pam_*.so)' },
  { when: 'libsasl2.so', text: 'Cyrus SASL loads mechanism plugins from its plugin directory (sasl2/*.so)' },
  { when: 'libkrb5.so', text: 'MIT Kerberos loads plugins (krb5/plugins) named by krb5.conf' },
  { when: 'libgio-2.0.so', text: 'GIO loads modules from gio/modules' },
  { when: 'libc.so.7', text: 'FreeBSD libc loads NSS modules (nss_*.so.1) named in /etc/nsswitch.conf' },
];

/** Warnings for the dlopen()ed libraries this set of objects probably needs. */
export function dlopenWarnings(objects: readonly LoadedObject[], rootFiles: ReadonlySet<string>): string[] {
  const names = new Set<string>();
  for (const o of objects) {
    names.add(o.request.split('/').pop() ?? o.request);
    if (o.elf.soname !== undefined) names.add(o.elf.soname);
  }
  const bases = [...rootFiles].map((p) => p.split('/').pop() ?? p);
  const out: string[] = [];
  for (const h of HINTS) {
    if (![...names].some((n) => n.startsWith(h.when))) continue;
    if (h.unless !== undefined && bases.some((b) => b.startsWith(h.unless ?? ''))) continue;
    out.push(h.text);
  }
  return out;
}
