// OpenBSD: hostname.if(5) for a failover IP whose gateway lies outside the
// /32, in the seed's -cloning form for 5.9 and earlier and in the
// -llinfo -link -static form for later releases; hostname.gif0 for the tunnel.
import { netmask, parsePrefixed } from './address.js';
import { CITE } from './citations.js';
import { lines, releaseAtLeast, type RenderedFile } from './render-types.js';
import { guestGateway, type GuestSpec, type NetSpec, type TunnelSpec } from './spec-schema.js';

/** The release the current form is written for when --release and the spec say nothing. */
export const OPENBSD_CURRENT = '7.6';
/**
 * route(8) lost -cloning when RTF_CLONING went away; the seed notes that 5.9
 * needs a patch to do without it. We use the seed's form up to 5.9 and the
 * -llinfo form from 6.0 on.
 */
export const OPENBSD_LLINFO_SINCE = '6.0';

export function renderOpenbsdGuest(spec: NetSpec, g: GuestSpec, release: string, tunnel: TunnelSpec | undefined): RenderedFile[] {
  const gw = guestGateway(spec, g);
  const p = parsePrefixed(g.ip);
  const ip = p?.address ?? g.ip;
  const mask = netmask(p?.length ?? 32);
  const modern = releaseAtLeast(release, OPENBSD_LLINFO_SINCE);
  const body = modern
    ? [
        `# ${g.name}: OpenBSD ${release} guest, failover IP ${ip}`,
        `# ${CITE.obsdHostnameIf}`,
        `# ${CITE.obsdRoute}`,
        '# The gateway lies outside the netmask: make it an on-link host first,',
        '# then use it as the default route. /etc/mygate must not exist.',
        `inet ${ip} ${mask}`,
        `!route add -inet ${gw} -llinfo -link -static -iface ${g.interface}`,
        `!route add -inet default ${gw}`,
      ]
    : [
        `# ${g.name}: OpenBSD ${release} guest, failover IP ${ip}`,
        `# ${CITE.obsdHostnameIf}`,
        `# ${CITE.seed} (the -cloning form, 5.9 and earlier)`,
        `inet ${ip} ${mask} NONE`,
        `!/sbin/route add -net ${gw} -netmask 255.255.255.255 -link -cloning -iface ${g.interface}`,
        `!/sbin/route add default -ifa ${ip} ${gw}`,
      ];
  const files: RenderedFile[] = [{ path: `${g.name}/etc/hostname.${g.interface}`, content: lines(...body), mode: 0o640 }];
  if (tunnel !== undefined) files.push(openbsdTunnel(g.name, tunnel));
  return files;
}

export function openbsdTunnel(machine: string, t: TunnelSpec): RenderedFile {
  const ifname = t.interface ?? 'gif0';
  const client = t.client6.split('/')[0] ?? t.client6;
  return {
    path: `${machine}/etc/hostname.${ifname}`,
    mode: 0o640,
    content: lines(
      `# Hurricane Electric 6in4 tunnel; routed prefix ${t.routed}`,
      `# ${CITE.obsdGif}`,
      `tunnel ${t.local} ${t.remote}`,
      `mtu ${String(t.mtu)}`,
      `inet6 alias ${client} 128`,
      `dest ${t.server6}`,
      `!route -n add -inet6 default ${t.server6}`,
      'up',
    ),
  };
}
