// The lint rules: each has a stable id, what it means, how to fix it, and
// its severity. `moat net check` prints one line per finding:
// file:line: id: message (fix: …). `moat net render` writes nothing while an
// error fires on the spec; a warning is printed and the files are written
// (the spec asked for it: legacy-apple crypto, pipex off).

export const RULES = {
  'route-order': {
    summary: 'the default route is added before the route to its off-link gateway',
    fix: 'add the host route to the gateway (on-link, -iface, pointopoint, GatewayOnLink) before the default route',
    severity: 'error',
  },
  'rc-conf-unread': {
    summary: 'an rc.conf variable sits in an rc.conf.d file that the rc.d script using it never loads',
    fix: 'put routes in /etc/rc.conf.d/routing and interfaces in /etc/rc.conf.d/netif, or both in /etc/rc.conf (rc.subr: load_rc_config NAME reads rc.conf.d/NAME only)',
    severity: 'error',
  },
  'gateway-unreachable': {
    summary: 'the gateway is outside every configured prefix and nothing makes it on-link',
    fix: 'add an on-link host route to the gateway before the default route, or fix the prefix',
    severity: 'error',
  },
  'mac-missing': {
    summary: 'a failover IP has no MAC, or a guest NIC is started without one',
    fix: 'give the NIC the virtual MAC the provider bound to the failover IP (bhyve: -s 1:0,virtio-net,tap0,mac=…)',
    severity: 'error',
  },
  'mac-duplicate': {
    summary: 'the same MAC is used twice',
    fix: 'each failover IP has its own virtual MAC; give each guest NIC the MAC of its own IP',
    severity: 'error',
  },
  'ip-shared': {
    summary: 'one failover IP is used by two guests',
    fix: 'give each guest its own failover IP',
    severity: 'error',
  },
  'pipex-disabled': {
    summary: 'npppd uses pppx(4) but net.pipex.enable=1 is not set (OpenBSD 5.8 panics on the first session)',
    fix: 'add net.pipex.enable=1 to /etc/sysctl.conf and run sysctl net.pipex.enable=1',
    severity: 'warning',
  },
  'legacy-crypto': {
    summary: 'the legacy-apple crypto (3des, modp1024) is in use',
    fix: 'use the modern profile (AES, SHA-2, modp2048 or better) unless old Apple clients must connect',
    severity: 'warning',
  },
  'l2tp-without-ipsec': {
    summary: 'UDP 1701 is allowed without IPsec, so L2TP sessions can be set up in the clear',
    fix: 'pass only isakmp, ipsec-nat-t, esp and ah from outside, and L2TP only on enc0',
    severity: 'error',
  },
  'skip-lo-redirect': {
    summary: 'PF skips lo0 while a rule redirects on lo0, so the redirect never applies',
    fix: 'remove "set skip on lo0" (or skip only other interfaces) when redirecting on lo0',
    severity: 'error',
  },
} as const satisfies Record<string, { summary: string; fix: string; severity: 'error' | 'warning' }>;

export type RuleId = keyof typeof RULES;

/** Whether a finding stops `render`. */
export function isError(f: Finding): boolean {
  return RULES[f.rule].severity === 'error';
}

export interface Finding {
  readonly rule: RuleId;
  readonly message: string;
  readonly file: string;
  readonly line: number;
}

/** One line per finding, as `check` prints it. */
export function formatFinding(f: Finding): string {
  return `${f.file}:${String(f.line)}: ${f.rule}: ${f.message} (fix: ${RULES[f.rule].fix})`;
}
