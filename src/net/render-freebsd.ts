// FreeBSD: the guest's rc.conf(5) lines (seed 000, in the order that matters:
// the host route to the gateway before the default route), the gif(4) tunnel,
// and on a FreeBSD host the bridge and one bhyve(8) command line per guest;
// each variable in the rc.conf.d file of the rc.d script that reads it.
import { CITE } from './citations.js';
import { lines, type RenderedFile } from './render-types.js';
import { guestGateway, guestMac, hostOf, type GuestSpec, type NetSpec, type TunnelSpec } from './spec-schema.js';

/**
 * Where FreeBSD's rc(8) reads each variable. load_rc_config NAME sources
 * /etc/rc.conf.d/NAME for the calling script's own NAME only (rc.subr), so
 * interface variables go where rc.d/netif reads them and route variables
 * where rc.d/routing reads them; a file named after no rc.d script (the
 * "tunnel" file of old) is read by nothing.
 */
export const FREEBSD_NETIF_FILE = 'etc/rc.conf.d/netif';
export const FREEBSD_ROUTING_FILE = 'etc/rc.conf.d/routing';

/** rc.d/netif sources /etc/rc.conf first, then this file: one assignment wins. */
const CLONED_NOTE = '# This cloned_interfaces replaces one set in /etc/rc.conf: list here any interface that one creates.';

export function renderFreebsdGuest(spec: NetSpec, g: GuestSpec, tunnel: TunnelSpec | undefined): RenderedFile[] {
  const gw = guestGateway(spec, g);
  const ip = g.ip.includes('/') ? g.ip : `${g.ip}/32`;
  const title = `# ${g.name}: FreeBSD${g.release === undefined ? '' : ` ${g.release}`} guest, failover IP ${ip}`;
  const tun = tunnel === undefined ? undefined : freebsdTunnel(tunnel);
  const netif = [
    title,
    `# ${CITE.seed}`,
    `# ${CITE.fbsdRcConfD}`,
    `# ${CITE.fbsdNetif}`,
    `ifconfig_${g.interface}="inet ${ip}"`,
    ...(tun === undefined ? [] : ['', ...tun.comment, CLONED_NOTE, `cloned_interfaces="${tun.ifname}"`, ...tun.netif]),
  ];
  const routing = [
    title,
    `# ${CITE.seed}`,
    `# ${CITE.fbsdRcConfD}`,
    `# ${CITE.fbsdRouting}`,
    `# ${CITE.fbsdRcConf}`,
    '# The gateway lies outside the /32, so a host route to it comes first:',
    '# static_routes are added in the order listed, "gateway" before "default".',
    `gateway_if="${g.interface}"`,
    `gateway_ip="${gw}"`,
    'static_routes="gateway default"',
    'route_gateway="-host $gateway_ip -interface $gateway_if"',
    'route_default="default $gateway_ip"',
    ...(tun === undefined ? [] : ['', ...tun.comment, ...tun.routing]),
  ];
  return [
    { path: `${g.name}/${FREEBSD_NETIF_FILE}`, content: lines(...netif) },
    { path: `${g.name}/${FREEBSD_ROUTING_FILE}`, content: lines(...routing) },
  ];
}

/** A gif(4) tunnel: its interface lines (read by rc.d/netif) and its IPv6 default route (read by rc.d/routing). */
export function freebsdTunnel(t: TunnelSpec): { ifname: string; comment: string[]; netif: string[]; routing: string[] } {
  const ifname = t.interface ?? 'gif0';
  const client = t.client6.split('/')[0] ?? t.client6;
  return {
    ifname,
    comment: [`# Hurricane Electric 6in4 tunnel; routed prefix ${t.routed}`, `# ${CITE.fbsdCloned}`],
    netif: [`create_args_${ifname}="tunnel ${t.local} ${t.remote} mtu ${String(t.mtu)}"`, `ifconfig_${ifname}_ipv6="inet6 ${client} ${t.server6} prefixlen 128"`],
    routing: [`ipv6_defaultrouter="${t.server6}"`],
  };
}

/**
 * The host's bridge, taps and (when it ends on the host) tunnel, and one bhyve
 * command line per guest with its MAC. cloned_interfaces is one variable:
 * a second assignment would replace the first, so the bridge, the taps and
 * the tunnel share one list.
 */
export function renderFreebsdHost(spec: NetSpec, guests: readonly GuestSpec[], tunnel: TunnelSpec | undefined): RenderedFile[] {
  const files: RenderedFile[] = [];
  const h = hostOf(spec);
  const taps = guests.map((g) => g.tap);
  const tun = tunnel === undefined ? undefined : freebsdTunnel(tunnel);
  // A bridge only when there are guests to bridge to the uplink.
  const bridged = taps.length > 0;
  const cloned = [...(bridged ? ['bridge0', ...taps] : []), ...(tun === undefined ? [] : [tun.ifname])];
  files.push({
    path: `${h.name}/${FREEBSD_NETIF_FILE}`,
    content: lines(
      `# ${h.name}: FreeBSD host${bridged ? `; guests bridged to ${h.uplink}` : ''}`,
      `# ${CITE.fbsdRcConfD}`,
      `# ${CITE.fbsdNetif}`,
      bridged ? `# ${CITE.fbsdBridge}` : undefined,
      tun === undefined ? undefined : `# ${CITE.fbsdCloned}`,
      CLONED_NOTE,
      `cloned_interfaces="${cloned.join(' ')}"`,
      bridged ? `ifconfig_bridge0="addm ${h.uplink}${taps.map((t) => ` addm ${t}`).join('')} up"` : undefined,
      ...taps.map((t) => `ifconfig_${t}="up"`),
      ...(tun === undefined ? [] : ['', tun.comment[0], ...tun.netif]),
    ),
  });
  if (tun !== undefined) {
    files.push({
      path: `${h.name}/${FREEBSD_ROUTING_FILE}`,
      content: lines(`# ${h.name}: FreeBSD host, IPv6 through the tunnel`, `# ${CITE.fbsdRcConfD}`, `# ${CITE.fbsdRouting}`, ...tun.comment, ...tun.routing),
    });
  }
  for (const g of guests.filter((x) => x.hypervisor === 'bhyve')) {
    const mac = guestMac(spec, g);
    const nic = `${g.slot},virtio-net,${g.tap}${mac === undefined ? '' : `,mac=${mac}`}`;
    files.push({
      path: `${h.name}/usr/local/etc/bhyve/${g.name}.sh`,
      mode: 0o755,
      content: lines(
        '#!/bin/sh',
        `# ${g.name}: the NIC carries the MAC the provider bound to ${g.ip.split('/')[0] ?? g.ip}`,
        `# ${CITE.seed}: -s 1:0,virtio-net,tap0,mac=…`,
        `# ${CITE.fbsdBhyve}`,
        mac === undefined ? '# WARNING: no MAC for this failover IP; the provider will drop its frames' : undefined,
        '# Add the boot disk for your site, e.g. -s 2:0,virtio-blk,/dev/zvol/zroot/NAME',
        `exec /usr/sbin/bhyve -A -H -P -c 1 -m 1G -s 0:0,hostbridge -s ${nic} -s 31,lpc -l com1,stdio ${g.name}`,
      ),
    });
  }
  for (const g of guests.filter((x) => x.hypervisor === 'qemu')) files.push(qemuLine(spec, g));
  return files;
}

/** A qemu command line with the guest's MAC, for a Linux (or FreeBSD) host. */
export function qemuLine(spec: NetSpec, g: GuestSpec): RenderedFile {
  const mac = guestMac(spec, g);
  return {
    path: `${hostOf(spec).name}/usr/local/etc/qemu/${g.name}.sh`,
    mode: 0o755,
    content: lines(
      '#!/bin/sh',
      `# ${g.name}: the NIC carries the MAC the provider bound to ${g.ip.split('/')[0] ?? g.ip}`,
      `# ${CITE.qemu}`,
      mac === undefined ? '# WARNING: no MAC for this failover IP; the provider will drop its frames' : undefined,
      '# Add the boot disk for your site, e.g. -drive file=IMAGE,if=virtio',
      `exec qemu-system-x86_64 -enable-kvm -m 1G -nographic -netdev tap,id=net0,ifname=${g.tap},script=no,downscript=no -device virtio-net-pci,netdev=net0${mac === undefined ? '' : `,mac=${mac}`}`,
    ),
  };
}
