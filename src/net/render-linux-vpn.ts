// Linux as the L2TP/IPsec head-end: strongSwan's swanctl.conf for IKEv1 in
// transport mode (UDP 1701 only), xl2tpd for L2TP, and pppd's options and
// chap-secrets with each user's framed IP.
import { addressBits, ipv4FromBits, ipv4HostRange, parsePrefixed } from './address.js';
import { CITE } from './citations.js';
import { LEGACY_APPLE_WARNING, VPN_MACHINE } from './render-openbsd-vpn.js';
import { lines, type RenderedFile } from './render-types.js';
import type { VpnSpec } from './spec-schema.js';

/** The proposals of each profile, in swanctl.conf(5) syntax. */
export const PROPOSALS = {
  modern: { ike: 'aes256-sha256-modp2048,aes128-sha256-modp2048', esp: 'aes256-sha256,aes128-sha256' },
  'legacy-apple': { ike: '3des-sha1-modp1024', esp: '3des-sha1' },
} as const;

export function renderLinuxVpn(vpn: VpnSpec): RenderedFile[] {
  const m = VPN_MACHINE;
  const prop = PROPOSALS[vpn.crypto];
  const psk = 'psk' in vpn.auth ? vpn.auth.psk : undefined;
  const cert = 'certificate' in vpn.auth ? vpn.auth.certificate : '';
  const swanctl = lines(
    `# ${CITE.seedVpn}, on strongSwan`,
    `# ${CITE.swanctl}`,
    vpn.crypto === 'legacy-apple' ? `# WARNING: ${LEGACY_APPLE_WARNING}` : undefined,
    'connections {',
    '    l2tp {',
    '        version = 1',
    `        local_addrs = ${vpn.listen}`,
    '        remote_addrs = %any',
    `        # ${CITE.swanctlCrypto}`,
    `        proposals = ${prop.ike}`,
    '        local {',
    psk === undefined ? '            auth = pubkey' : '            auth = psk',
    psk === undefined ? `            certs = ${cert}` : `            id = ${vpn.listen}`,
    '        }',
    '        remote {',
    psk === undefined ? '            auth = pubkey' : '            auth = psk',
    '        }',
    '        children {',
    '            l2tp {',
    '                mode = transport',
    '                # Only L2TP is protected: UDP 1701 never travels without IPsec.',
    '                local_ts = dynamic[udp/l2tp]',
    '                remote_ts = dynamic[udp]',
    `                esp_proposals = ${prop.esp}`,
    '            }',
    '        }',
    '    }',
    '}',
    psk === undefined ? undefined : 'secrets {',
    psk === undefined ? undefined : '    ike-l2tp {',
    psk === undefined ? undefined : `        secret = "${psk}"`,
    psk === undefined ? undefined : '    }',
    psk === undefined ? undefined : '}',
  );
  const pool = parsePrefixed(vpn.pool);
  const range = pool === undefined ? { first: vpn.localAddress, last: vpn.localAddress } : ipv4HostRange(pool);
  // The server end must not be handed out: start the range after it when it is the first host.
  const first = range.first === vpn.localAddress ? ipv4FromBits(addressBits(range.first) + 1n) : range.first;
  const xl2tpd = lines(
    `# ${CITE.xl2tpd}`,
    '[global]',
    `listen-addr = ${vpn.listen}`,
    '',
    '[lns default]',
    `ip range = ${first}-${range.last}`,
    `local ip = ${vpn.localAddress}`,
    'require chap = yes',
    'refuse pap = yes',
    'require authentication = yes',
    'name = moat-l2tp',
    'pppoptfile = /etc/ppp/options.xl2tpd',
    'length bit = yes',
  );
  const options = lines(
    `# ${CITE.pppOptions}`,
    'name moat-l2tp',
    'require-mschap-v2',
    'refuse-pap',
    'refuse-chap',
    'noccp',
    'auth',
    'mtu 1400',
    'mru 1400',
    'proxyarp',
    'lcp-echo-interval 30',
    'lcp-echo-failure 4',
    ...vpn.dns.map((d) => `ms-dns ${d}`),
  );
  const secrets = lines(
    `# ${CITE.chapSecrets}`,
    ...vpn.users.map((u) => `${u.name}\tmoat-l2tp\t"${u.password}"\t${u.framedIp}`),
  );
  return [
    { path: `${m}/etc/swanctl/conf.d/moat-l2tp.conf`, content: swanctl, mode: 0o600 },
    { path: `${m}/etc/xl2tpd/xl2tpd.conf`, content: xl2tpd },
    { path: `${m}/etc/ppp/options.xl2tpd`, content: options },
    { path: `${m}/etc/ppp/chap-secrets`, content: secrets, mode: 0o600 },
  ];
}
