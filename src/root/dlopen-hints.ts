// Libraries load other libraries with dlopen(3) that no ELF header names, so
// no closure can find them. These are the ones that bite minimal roots most
// often; we can only warn (or, with --trace, watch the program run).
// glibc's own loads happen only behind certain functions, so those hints are
// given only when a program imports one of them (its .dynsym undefined
// symbols): /bin/sh, which calls none of the unwinding or iconv functions,
// is not told about libgcc_s or gconv.
import type { LoadedObject } from './resolver.js';

interface Hint {
  /** Applies when a library with this SONAME prefix is in the closure. */
  when: string;
  /** ...and no file whose base name starts with this is in the root. */
  unless?: string;
  /** ...and a program imports a symbol this matches (always, when absent). */
  imports?: RegExp;
  text: string;
}

// glibc's nss/ functions: every lookup of users, groups, shadow, hosts,
// services, protocols, networks, RPC, netgroups and aliases goes through
// the NSS modules /etc/nsswitch.conf names. getgroups(2) is a system call.
const NSS =
  /^(?:(?:getpw(?:nam|uid|ent)|getgr(?:nam|gid|ent)|getsp(?:nam|ent)|gethost(?:byname2?|byaddr|ent)|getnet(?:byname|byaddr|ent|grent)|getserv(?:byname|byport|ent)|getproto(?:byname|bynumber|ent)|getrpc(?:byname|bynumber|ent)|getalias(?:byname|ent))(?:_r)?|getaddrinfo|getnameinfo|initgroups|getgrouplist|innetgr|setnetgrent|ether_hostton|ether_ntohost)$/;

const HINTS: readonly Hint[] = [
  {
    when: 'libc.so.6',
    unless: 'libgcc_s.so',
    // nptl unwinds the thread's stack through libgcc_s for cancellation and
    // exit; backtrace(3) walks it through libgcc_s's _Unwind_Backtrace.
    imports: /^(?:pthread_cancel|pthread_exit|thrd_exit|backtrace)$/,
    text: 'glibc dlopens libgcc_s.so.1 for pthread_cancel(3), pthread_exit(3) and backtrace(3); add it with --file',
  },
  { when: 'libc.so.6', imports: NSS, text: 'glibc loads NSS modules (libnss_*.so.2) named in /etc/nsswitch.conf for user and host lookups; files and dns are built in since glibc 2.34 (--with passwd, --with hosts)' },
  { when: 'libc.so.6', imports: /^iconv_open$/, text: 'glibc iconv(3) loads gconv modules from the gconv directory (gconv-modules, *.so) for any charset other than UTF-8 and ASCII' },
  { when: 'libcrypto.so.3', text: 'OpenSSL 3 loads providers (ossl-modules/legacy.so, fips.so) and engines at run time, and reads openssl.cnf' },
  { when: 'libcrypto.so.1', text: 'OpenSSL 1.1 loads engines (engines-1.1/*.so) at run time, and reads openssl.cnf' },
  { when: 'libpam.so', text: 'PAM loads the modules its /etc/pam.d files name (security/pam_*.so)' },
  { when: 'libsasl2.so', text: 'Cyrus SASL loads mechanism plugins from its plugin directory (sasl2/*.so)' },
  { when: 'libkrb5.so', text: 'MIT Kerberos loads plugins (krb5/plugins) named by krb5.conf' },
  { when: 'libgio-2.0.so', text: 'GIO loads modules from gio/modules' },
  { when: 'libc.so.7', imports: NSS, text: 'FreeBSD libc loads NSS modules (nss_*.so.1) named in /etc/nsswitch.conf' },
];

export interface Program {
  /** As the user named it, for the message. */
  name: string;
  /** Its undefined dynamic symbols; undefined when they could not be read (then every hint applies). */
  imports: readonly string[] | undefined;
}

/** Warnings for the dlopen()ed libraries these programs, with these objects, probably need. */
export function dlopenWarnings(objects: readonly LoadedObject[], rootFiles: ReadonlySet<string>, programs: readonly Program[]): string[] {
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
    const re = h.imports;
    if (re === undefined) {
      out.push(h.text);
      continue;
    }
    const why: string[] = [];
    for (const p of programs) {
      if (p.imports === undefined) why.push(`${p.name} has no section headers to read its imports from`);
      else {
        const used = [...new Set(p.imports.filter((s) => re.test(s)))].sort();
        if (used.length > 0) why.push(`${p.name} calls ${used.slice(0, 4).join(', ')}${used.length > 4 ? ', ...' : ''}`);
      }
    }
    if (why.length > 0) out.push(`${h.text} (${why.join('; ')})`);
  }
  return out;
}
