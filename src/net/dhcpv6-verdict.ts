// Judge an IA's timers as RFC 8415 does (formerly RFC 3315 §22.4 and §22.6),
// and say what dhcpcd would log: seed 000's provider sent timers that make
// clients fail to renew.
import type { IdentityAssociation } from './dhcpv6-message.js';

/** RFC 8415 §7.7: all ones means infinity. */
export const INFINITY = 0xffffffff;

export type Severity = 'discard' | 'misuse' | 'note' | 'ok';

export interface Verdict {
  readonly severity: Severity;
  readonly text: string;
}

function secs(n: number): string {
  return n === INFINITY ? 'infinity' : String(n);
}

/**
 * The verdicts for one IA. `discard` and `misuse` make the command exit 1:
 * the client throws the IA or address away, or keeps an address it cannot renew in time.
 */
export function judgeIa(ia: IdentityAssociation, iface = 'IFACE', from = 'SERVER'): Verdict[] {
  const out: Verdict[] = [];
  const { t1, t2 } = ia;
  const opt = ia.kind === 'IA_NA' ? '§21.4' : '§21.21';
  const discardIa = t1 > t2 && t2 > 0;
  if (discardIa) {
    out.push({ severity: 'discard', text: `T1 ${secs(t1)} > T2 ${secs(t2)}: RFC 8415 ${opt} (RFC 3315 §22.4): the client discards this ${ia.kind} and processes the rest of the message as if it were absent` });
    out.push({ severity: 'note', text: `dhcpcd logs "${iface}: T1 (${String(t1 | 0)}) > T2 (${String(t2 | 0)}) from ${from}" and then ignores both timers, choosing its own` });
  }
  const valid = ia.leases.filter((l) => l.preferred <= l.valid);
  for (const l of ia.leases) {
    if (l.preferred > l.valid) {
      out.push({ severity: 'discard', text: `${l.what}: preferred ${secs(l.preferred)} > valid ${secs(l.valid)}: RFC 8415 §21.6 (RFC 3315 §22.6): the client discards this address` });
      out.push({ severity: 'note', text: `dhcpcd logs "${iface}: IA Address pltime ${String(l.preferred)} > vltime ${String(l.valid)}: Invalid argument" and ignores the address` });
    }
  }
  const shortestPreferred = valid.length === 0 ? undefined : Math.min(...valid.map((l) => l.preferred));
  let renewAt = t1;
  let rebindAt = t2;
  if (!discardIa && (t1 === 0 || t2 === 0)) {
    // §21.4: 0 leaves the time to the client; §18.2.4 and the recommendation of 0.5 and 0.8.
    const base = shortestPreferred ?? 0;
    if (t1 === 0) renewAt = base === INFINITY ? INFINITY : Math.floor(base * 0.5);
    if (t2 === 0) rebindAt = base === INFINITY ? INFINITY : Math.floor(base * 0.8);
    out.push({
      severity: 'note',
      text: `T1 ${secs(t1)}, T2 ${secs(t2)}: RFC 8415 ${opt}: a zero leaves the time to the client; the recommended 0.5 and 0.8 of the shortest preferred lifetime (${secs(shortestPreferred ?? 0)}) give renew at ${secs(renewAt)} s and rebind at ${secs(rebindAt)} s`,
    });
  }
  if (!discardIa) {
    for (const l of valid) {
      if (l.valid !== INFINITY && renewAt !== INFINITY && renewAt > 0 && l.valid <= renewAt) {
        out.push({ severity: 'misuse', text: `${l.what}: valid lifetime ${secs(l.valid)} ends before the client renews at T1 ${secs(renewAt)}: the address expires and the client keeps using a lease it never renewed in time` });
      } else if (l.valid !== INFINITY && rebindAt !== INFINITY && rebindAt > 0 && l.valid <= rebindAt) {
        out.push({ severity: 'note', text: `${l.what}: valid lifetime ${secs(l.valid)} ends before T2 ${secs(rebindAt)}: if the Renew goes unanswered, the address expires before the client rebinds` });
      } else if (l.preferred !== INFINITY && renewAt !== INFINITY && l.preferred < renewAt) {
        out.push({ severity: 'note', text: `${l.what}: preferred lifetime ${secs(l.preferred)} ends before T1 ${secs(renewAt)}: the address is deprecated before renewal (RFC 8415 §21.4 recommends T1 at half of it)` });
      }
    }
  }
  if (ia.leases.length === 0) out.push({ severity: 'note', text: `no ${ia.kind === 'IA_NA' ? 'IAADDR' : 'IAPREFIX'} in this ${ia.kind}${ia.status === undefined ? '' : ` (status code ${String(ia.status)})`}` });
  if (!out.some((v) => v.severity === 'discard' || v.severity === 'misuse')) {
    out.push({ severity: 'ok', text: 'a client keeps and renews this lease; dhcpcd logs no warning about its timers' });
  }
  return out;
}
