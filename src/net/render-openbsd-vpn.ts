// OpenBSD as seed 000's L2TP/IPsec head-end: a PF anchor, ipsec.conf, npppd.conf,
// npppd-users, sysctl.conf (pipex) and rc.conf.local, plus PF redirects for
// jail services (without "set skip on lo0" when one redirects on lo0).
import { CITE } from './citations.js';
import { lines, type RenderedFile } from './render-types.js';
import type { JailServiceSpec, NetSpec, VpnSpec } from './spec-schema.js';

export const VPN_MACHINE = 'vpn';

/**
 * The head-end's PF rules are an anchor loaded from the ruleset already on
 * the machine, never a ruleset of their own: "pfctl -f" of a new pf.conf on a
 * rented server replaces the rules that let its administrator in over ssh.
 * pf.conf(5) ANCHORS: 'anchor "NAME"' evaluates the anchor's rules at that
 * point of the main ruleset; 'load anchor "NAME" from "FILE"' fills it when
 * pf.conf is loaded; "pfctl -a NAME -f FILE" fills it now.
 */
export const PF_ANCHOR = 'moat-vpn';
export const PF_ANCHOR_FILE = `/etc/pf.${PF_ANCHOR}.conf`;
export const PF_ANCHOR_LINES = [`anchor "${PF_ANCHOR}"`, `load anchor "${PF_ANCHOR}" from "${PF_ANCHOR_FILE}"`] as const;
export const PF_ANCHOR_LOAD = `pfctl -a ${PF_ANCHOR} -f ${PF_ANCHOR_FILE}`;
export const PF_ANCHOR_WARNING =
  `${VPN_MACHINE}${PF_ANCHOR_FILE} is a PF anchor, not a ruleset: it leaves your pf.conf, and the ssh and host ` +
  `rules in it, as they are. Append to /etc/pf.conf the lines '${PF_ANCHOR_LINES[0]}' and '${PF_ANCHOR_LINES[1]}', ` +
  `then load it now with '${PF_ANCHOR_LOAD}' (check first with 'pfctl -n -a ${PF_ANCHOR} -f ${PF_ANCHOR_FILE}')`;

/** The legacy-apple profile: what the seed says Apple's clients need, and why it is a warning. */
export const LEGACY_APPLE_WARNING =
  'vpn.crypto legacy-apple uses 3des, hmac-sha1 and modp1024: weak, accepted only for old Apple clients (seed 000)';

export function renderOpenbsdVpn(spec: NetSpec, vpn: VpnSpec): RenderedFile[] {
  const m = VPN_MACHINE;
  const authLine = 'psk' in vpn.auth ? ` psk "${vpn.auth.psk}"` : '';
  const crypto =
    vpn.crypto === 'legacy-apple'
      ? ' main auth "hmac-sha1" enc "3des" group modp1024 quick auth "hmac-sha1" enc "3des"'
      : '';
  const ipsec = lines(
    `# ${CITE.seedVpn}`,
    `# ${CITE.obsdIpsec}`,
    vpn.crypto === 'legacy-apple'
      ? `# ${CITE.obsdIpsecCrypto}; WARNING: ${LEGACY_APPLE_WARNING}`
      : '# The default main and quick mode ciphers of ipsec.conf(5) apply.',
    'psk' in vpn.auth ? undefined : `# Certificate ${vpn.auth.certificate} and key ${vpn.auth.key} go in /etc/isakmpd/certs and /etc/isakmpd/private (isakmpd(8)).`,
    `ike passive esp transport proto udp from ${vpn.listen} to any port 1701${crypto}${authLine}`,
  );
  const pf = renderOpenbsdPf(spec);
  const npppd = lines(
    `# ${CITE.obsdNpppd}`,
    'authentication LOCAL type local {',
    '\tusers-file "/etc/npppd/npppd-users"',
    '}',
    'tunnel L2TP protocol l2tp {',
    `\tlisten on ${vpn.listen}`,
    '}',
    'ipcp IPCP {',
    `\tpool-address ${vpn.pool}`,
    vpn.dns.length > 0 ? `\tdns-servers ${vpn.dns.join(' ')}` : undefined,
    '}',
    `# pppx(4) needs pipex(4): ${CITE.obsdPipex}`,
    `interface pppx0 address ${vpn.localAddress} ipcp IPCP`,
    'bind tunnel from L2TP authenticated by LOCAL to pppx0',
  );
  const users = lines(
    `# ${CITE.obsdNpppdUsers}`,
    ...vpn.users.flatMap((u) => [`${u.name}:\\`, `\t:password=${u.password}:\\`, `\t:framed-ip-address=${u.framedIp}:`]),
  );
  const files: RenderedFile[] = [
    { path: `${m}${PF_ANCHOR_FILE}`, content: pf, mode: 0o600 },
    { path: `${m}/etc/ipsec.conf`, content: ipsec, mode: 0o600 },
    { path: `${m}/etc/npppd/npppd.conf`, content: npppd, mode: 0o640 },
    { path: `${m}/etc/npppd/npppd-users`, content: users, mode: 0o600 },
    {
      path: `${m}/etc/rc.conf.local`,
      content: lines(`# ${CITE.obsdRcConfLocal}`, 'isakmpd_flags="-K"', 'ipsec=YES', 'npppd_flags=""'),
    },
  ];
  if (vpn.pipex) {
    files.push({ path: `${m}/etc/sysctl.conf`, content: lines(`# ${CITE.obsdPipex}`, 'net.pipex.enable=1') });
  }
  return files;
}

function renderOpenbsdPf(spec: NetSpec): string {
  const redirectsOnLo = spec.jails.some((j) => j.redirect.interfaces.some((i) => /^lo\d*$/.test(i)));
  return lines(
    `# ${CITE.seedVpn}`,
    `# ${CITE.obsdPf}`,
    `# ${CITE.obsdPfAnchor}`,
    `# The rules of the PF anchor "${PF_ANCHOR}", not a ruleset: loading them keeps`,
    '# the rules already in /etc/pf.conf, and with them ssh and the host\'s own',
    '# traffic. Append to /etc/pf.conf, after its own rules (the last matching',
    '# rule wins, so these passes are not overridden by an earlier block):',
    ...PF_ANCHOR_LINES.map((l) => `#   ${l}`),
    '# and load the anchor now, without touching the main ruleset:',
    `#   pfctl -n -a ${PF_ANCHOR} -f ${PF_ANCHOR_FILE}   (check)`,
    `#   ${PF_ANCHOR_LOAD}`,
    redirectsOnLo ? `# If /etc/pf.conf has "set skip on lo", remove it: ${CITE.pfSkipLo}` : undefined,
    '# Only IKE and ESP/AH; UDP 1701 is reached through enc0 alone, so no L2TP without IPsec.',
    `pass quick proto { esp, ah } from any to self`,
    `pass quick proto udp from any to self port { isakmp, ipsec-nat-t } keep state`,
    'pass on enc0 from any to self keep state (if-bound)',
    'pass on pppx from any to any',
    ...spec.jails.flatMap((j) => openbsdRedirect(j)),
  );
}

/** pf.conf(5) on OpenBSD 4.7 and later: rdr-to on a pass rule. */
export function openbsdRedirect(j: JailServiceSpec): string[] {
  return j.redirect.interfaces.map(
    (i) => `pass in on ${i} proto ${j.protocol} to ${j.redirect.publicAddress} port ${String(j.port)} rdr-to ${j.address} port ${String(j.redirect.port)}`,
  );
}
