// The lint rules: each has a stable id, what it means, and how to fix it.
// `moat net check` prints one line per finding: file:line: id: message (fix: …).

export const RULES = {
  'route-order': {
    summary: 'the default route is added before the route to its off-link gateway',
    fix: 'add the host route to the gateway (on-link, -iface, pointopoint, GatewayOnLink) before the default route',
  },
  'gateway-unreachable': {
    summary: 'the gateway is outside every configured prefix and nothing makes it on-link',
    fix: 'add an on-link host route to the gateway before the default route, or fix the prefix',
  },
  'mac-missing': {
    summary: 'a failover IP has no MAC, or a guest NIC is started without one',
    fix: 'give the NIC the virtual MAC the provider bound to the failover IP (bhyve: -s 1:0,virtio-net,tap0,mac=…)',
  },
  'mac-duplicate': {
    summary: 'the same MAC is used twice',
    fix: 'each failover IP has its own virtual MAC; give each guest NIC the MAC of its own IP',
  },
  'ip-shared': {
    summary: 'one failover IP is used by two guests',
    fix: 'give each guest its own failover IP',
  },
  'pipex-disabled': {
    summary: 'npppd uses pppx(4) but net.pipex.enable=1 is not set (OpenBSD 5.8 panics on the first session)',
    fix: 'add net.pipex.enable=1 to /etc/sysctl.conf and run sysctl net.pipex.enable=1',
  },
  'legacy-crypto': {
    summary: 'the legacy-apple crypto (3des, modp1024) is in use',
    fix: 'use the modern profile (AES, SHA-2, modp2048 or better) unless old Apple clients must connect',
  },
  'l2tp-without-ipsec': {
    summary: 'UDP 1701 is allowed without IPsec, so L2TP sessions can be set up in the clear',
    fix: 'pass only isakmp, ipsec-nat-t, esp and ah from outside, and L2TP only on enc0',
  },
  'skip-lo-redirect': {
    summary: 'PF skips lo0 while a rule redirects on lo0, so the redirect never applies',
    fix: 'remove "set skip on lo0" (or skip only other interfaces) when redirecting on lo0',
  },
} as const;

export type RuleId = keyof typeof RULES;

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
