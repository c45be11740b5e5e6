// NetBSD: the seed's /etc/netstart.local (console commands, -cloning) for
// releases before 8, and ifconfig.if(5) plus route.conf(5) from 8 on, where
// RTF_CLONING is gone and an interface route alone resolves the gateway.
import { netmask, parsePrefixed } from './address.js';
import { CITE } from './citations.js';
import { lines, releaseAtLeast, type RenderedFile } from './render-types.js';
import { guestGateway, type GuestSpec, type NetSpec, type TunnelSpec } from './spec-schema.js';

export const NETBSD_CURRENT = '10.1';
export const NETBSD_ROUTE_CONF_SINCE = '8.0';

export function renderNetbsdGuest(spec: NetSpec, g: GuestSpec, release: string, tunnel: TunnelSpec | undefined): RenderedFile[] {
  const gw = guestGateway(spec, g);
  const p = parsePrefixed(g.ip);
  const ip = p?.address ?? g.ip;
  const len = p?.length ?? 32;
  const files: RenderedFile[] = [];
  if (!releaseAtLeast(release, NETBSD_ROUTE_CONF_SINCE)) {
    files.push({
      path: `${g.name}/etc/netstart.local`,
      mode: 0o644,
      content: lines(
        `# ${g.name}: NetBSD ${release} guest, failover IP ${ip}`,
        `# ${CITE.seed}`,
        `# ${CITE.nbsdNetstartLocal}`,
        '# The route to the gateway comes before the default route.',
        `ifconfig ${g.interface} ${ip}/${String(len)}`,
        `route add -net ${gw} -link -cloning -iface ${g.interface}`,
        `route add default -ifa ${ip} ${gw}`,
        ...(tunnel === undefined ? [] : netbsdTunnelCommands(tunnel)),
      ),
    });
    return files;
  }
  files.push({
    path: `${g.name}/etc/ifconfig.${g.interface}`,
    content: lines(`# ${g.name}: NetBSD ${release} guest, failover IP ${ip}`, `# ${CITE.nbsdIfconfigIf}`, `inet ${ip} netmask ${netmask(len)}`),
  });
  files.push({
    path: `${g.name}/etc/route.conf`,
    content: lines(
      `# ${CITE.nbsdRouteConf}`,
      `# ${CITE.seed}: the gateway is reached on-link first, then used as the default.`,
      `net ${gw} -netmask 255.255.255.255 -link -iface ${g.interface}`,
      `net default -ifa ${ip} ${gw}`,
    ),
  });
  if (tunnel !== undefined) {
    const ifname = tunnel.interface ?? 'gif0';
    const client = tunnel.client6.split('/')[0] ?? tunnel.client6;
    files.push({
      path: `${g.name}/etc/ifconfig.${ifname}`,
      content: lines(
        `# Hurricane Electric 6in4 tunnel; routed prefix ${tunnel.routed}`,
        `# ${CITE.nbsdGif}`,
        'create',
        `tunnel ${tunnel.local} ${tunnel.remote}`,
        `inet6 ${client} ${tunnel.server6} prefixlen 128`,
        `mtu ${String(tunnel.mtu)}`,
        'up',
        `!route add -inet6 default ${tunnel.server6}`,
      ),
    });
  }
  return files;
}

function netbsdTunnelCommands(t: TunnelSpec): string[] {
  const ifname = t.interface ?? 'gif0';
  const client = t.client6.split('/')[0] ?? t.client6;
  return [
    `# Hurricane Electric 6in4 tunnel; routed prefix ${t.routed}`,
    `# ${CITE.nbsdGif}`,
    `ifconfig ${ifname} create`,
    `ifconfig ${ifname} tunnel ${t.local} ${t.remote}`,
    `ifconfig ${ifname} inet6 ${client} ${t.server6} prefixlen 128 mtu ${String(t.mtu)} up`,
    `route add -inet6 default ${t.server6}`,
  ];
}
