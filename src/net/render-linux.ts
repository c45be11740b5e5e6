// Linux: the same failover address in four forms. ifupdown's pointopoint,
// netplan's on-link, networkd's GatewayOnLink and a plain ip(8) script all
// make the gateway an on-link neighbour before the default route uses it.
import { netmask, parsePrefixed } from './address.js';
import { CITE } from './citations.js';
import { lines, type RenderedFile, type Target } from './render-types.js';
import { guestGateway, type GuestSpec, type NetSpec, type TunnelSpec } from './spec-schema.js';

/** The Linux name of the 6in4 tunnel, as Hurricane Electric's examples call it. */
export const SIT_NAME = 'he-ipv6';

export function renderLinuxGuest(spec: NetSpec, g: GuestSpec, target: Target, tunnel: TunnelSpec | undefined): RenderedFile[] {
  switch (target) {
    case 'linux-ifupdown':
      return [ifupdown(spec, g, tunnel)];
    case 'linux-netplan':
      return [netplan(spec, g, tunnel)];
    case 'linux-networkd':
      return networkd(spec, g, tunnel);
    default:
      return [ipScript(spec, g, tunnel)];
  }
}

function hostPrefix(g: GuestSpec): { ip: string; len: number } {
  const p = parsePrefixed(g.ip);
  return { ip: p?.address ?? g.ip, len: p?.length ?? 32 };
}

function ifupdown(spec: NetSpec, g: GuestSpec, t: TunnelSpec | undefined): RenderedFile {
  const gw = guestGateway(spec, g);
  const { ip, len } = hostPrefix(g);
  const tunnel = t === undefined ? [] : [
    '',
    `# ${CITE.ifupdownV6}; routed prefix ${t.routed}`,
    `auto ${t.interface ?? SIT_NAME}`,
    `iface ${t.interface ?? SIT_NAME} inet6 v4tunnel`,
    `\taddress ${t.client6.split('/')[0] ?? t.client6}`,
    `\tnetmask ${t.client6.split('/')[1] ?? '64'}`,
    `\tendpoint ${t.remote}`,
    `\tlocal ${t.local}`,
    '\tttl 255',
    `\tmtu ${String(t.mtu)}`,
    `\tgateway ${t.server6}`,
  ];
  return {
    path: `${g.name}/etc/network/interfaces.d/${g.interface}`,
    content: lines(
      `# ${g.name}: failover IP ${ip}`,
      `# ${CITE.ifupdown}`,
      '# pointopoint makes the gateway the peer of the /32, so it is on-link',
      '# before ifupdown adds the default route through it.',
      `auto ${g.interface}`,
      `iface ${g.interface} inet static`,
      `\taddress ${ip}`,
      `\tnetmask ${netmask(len)}`,
      `\tpointopoint ${gw}`,
      `\tgateway ${gw}`,
      ...tunnel,
    ),
  };
}

function netplan(spec: NetSpec, g: GuestSpec, t: TunnelSpec | undefined): RenderedFile {
  const gw = guestGateway(spec, g);
  const { ip, len } = hostPrefix(g);
  const name = t?.interface ?? SIT_NAME;
  const tunnel = t === undefined ? [] : [
    `  # ${CITE.netplanTunnel}; routed prefix ${t.routed}`,
    '  tunnels:',
    `    ${name}:`,
    '      mode: sit',
    `      local: ${t.local}`,
    `      remote: ${t.remote}`,
    `      addresses: ["${t.client6}"]`,
    `      mtu: ${String(t.mtu)}`,
    '      routes:',
    '        - to: "::/0"',
    `          via: "${t.server6}"`,
  ];
  return {
    path: `${g.name}/etc/netplan/60-moat-${g.interface}.yaml`,
    mode: 0o600,
    content: lines(
      `# ${g.name}: failover IP ${ip}`,
      `# ${CITE.netplan}`,
      'network:',
      '  version: 2',
      '  renderer: networkd',
      '  ethernets:',
      `    ${g.interface}:`,
      `      addresses: ["${ip}/${String(len)}"]`,
      '      routes:',
      '        - to: default',
      `          via: ${gw}`,
      '          on-link: true',
      ...tunnel,
    ),
  };
}

function networkd(spec: NetSpec, g: GuestSpec, t: TunnelSpec | undefined): RenderedFile[] {
  const gw = guestGateway(spec, g);
  const { ip, len } = hostPrefix(g);
  const name = t?.interface ?? SIT_NAME;
  const files: RenderedFile[] = [
    {
      path: `${g.name}/etc/systemd/network/10-moat-${g.interface}.network`,
      content: lines(
        `# ${g.name}: failover IP ${ip}`,
        `# ${CITE.networkd}`,
        '[Match]',
        `Name=${g.interface}`,
        '',
        '[Network]',
        `Address=${ip}/${String(len)}`,
        t === undefined ? undefined : `Tunnel=${name}`,
        '',
        '[Route]',
        `Gateway=${gw}`,
        'GatewayOnLink=yes',
      ),
    },
  ];
  if (t !== undefined) {
    files.push({
      path: `${g.name}/etc/systemd/network/20-moat-${name}.netdev`,
      content: lines(
        `# ${CITE.networkdTunnel}; routed prefix ${t.routed}`,
        '[NetDev]',
        `Name=${name}`,
        'Kind=sit',
        `MTUBytes=${String(t.mtu)}`,
        '',
        '[Tunnel]',
        `Local=${t.local}`,
        `Remote=${t.remote}`,
        'TTL=255',
      ),
    });
    files.push({
      path: `${g.name}/etc/systemd/network/20-moat-${name}.network`,
      content: lines(`# ${CITE.networkdTunnel}`, '[Match]', `Name=${name}`, '', '[Network]', `Address=${t.client6}`, `Gateway=${t.server6}`),
    });
  }
  return files;
}

/** The ip(8) commands, one per line, each a plain argv with no shell syntax. */
export function ipCommands(spec: NetSpec, g: GuestSpec, t: TunnelSpec | undefined): string[] {
  const gw = guestGateway(spec, g);
  const { ip, len } = hostPrefix(g);
  const out = [
    `ip link set dev ${g.interface} up`,
    `ip addr add ${ip}/${String(len)} dev ${g.interface}`,
    `ip route add ${gw}/32 dev ${g.interface} scope link`,
    `ip route add default via ${gw} dev ${g.interface}`,
  ];
  if (t !== undefined) out.push(...linuxTunnelCommands(t));
  return out;
}

/** The sit tunnel as ip(8) commands. */
export function linuxTunnelCommands(t: TunnelSpec): string[] {
  const name = t.interface ?? SIT_NAME;
  return [
    `ip tunnel add ${name} mode sit remote ${t.remote} local ${t.local} ttl 255`,
    `ip link set dev ${name} mtu ${String(t.mtu)} up`,
    `ip addr add ${t.client6} dev ${name}`,
    `ip -6 route add default via ${t.server6} dev ${name}`,
  ];
}

function ipScript(spec: NetSpec, g: GuestSpec, t: TunnelSpec | undefined): RenderedFile {
  const cmds = ipCommands(spec, g, t);
  return {
    path: `${g.name}/usr/local/sbin/moat-net-${g.interface}.sh`,
    mode: 0o755,
    content: lines(
      '#!/bin/sh',
      `# ${g.name}: failover IP ${g.ip}`,
      `# ${CITE.ipRoute}`,
      '# The host route must exist before the default route, or the kernel',
      '# answers "Nexthop has invalid gateway".',
      'set -e',
      ...cmds.slice(0, 4),
      ...(t === undefined ? [] : [`# ${CITE.ipTunnel}; routed prefix ${t.routed}`, ...cmds.slice(4)]),
    ),
  };
}
