// FreeBSD: the guest's rc.conf lines (seed 000, in the order that matters:
// the host route to the gateway before the default route), the gif(4) tunnel,
// and on a FreeBSD host the bridge and one bhyve(8) command line per guest.
import { CITE } from './citations.js';
import { lines, type RenderedFile } from './render-types.js';
import { guestGateway, guestMac, hostOf, type GuestSpec, type NetSpec, type TunnelSpec } from './spec-schema.js';

export function renderFreebsdGuest(spec: NetSpec, g: GuestSpec, tunnel: TunnelSpec | undefined): RenderedFile[] {
  const gw = guestGateway(spec, g);
  const ip = g.ip.includes('/') ? g.ip : `${g.ip}/32`;
  const body = [
    `# ${g.name}: FreeBSD${g.release === undefined ? '' : ` ${g.release}`} guest, failover IP ${ip}`,
    `# ${CITE.seed}`,
    `# ${CITE.fbsdRcConf}`,
    '# The gateway lies outside the /32, so a host route to it comes first:',
    '# static_routes are added in the order listed, "gateway" before "default".',
    `ifconfig_${g.interface}="inet ${ip}"`,
    `gateway_if="${g.interface}"`,
    `gateway_ip="${gw}"`,
    'static_routes="gateway default"',
    'route_gateway="-host $gateway_ip -interface $gateway_if"',
    'route_default="default $gateway_ip"',
  ];
  if (tunnel !== undefined) body.push('', ...freebsdTunnelLines(tunnel));
  return [{ path: `${g.name}/etc/rc.conf.d/network`, content: lines(...body) }];
}

export function freebsdTunnelLines(t: TunnelSpec): string[] {
  const ifname = t.interface ?? 'gif0';
  const client = t.client6.split('/')[0] ?? t.client6;
  return [
    `# Hurricane Electric 6in4 tunnel; routed prefix ${t.routed}`,
    `# ${CITE.fbsdCloned}`,
    `cloned_interfaces="${ifname}"`,
    `create_args_${ifname}="tunnel ${t.local} ${t.remote} mtu ${String(t.mtu)}"`,
    `ifconfig_${ifname}_ipv6="inet6 ${client} ${t.server6} prefixlen 128"`,
    `ipv6_defaultrouter="${t.server6}"`,
  ];
}

/** The host's bridge, taps, and one bhyve command line per guest with its MAC. */
export function renderFreebsdHost(spec: NetSpec, guests: readonly GuestSpec[]): RenderedFile[] {
  const files: RenderedFile[] = [];
  const taps = guests.map((g) => g.tap);
  files.push({
    path: `${hostOf(spec).name}/etc/rc.conf.d/network`,
    content: lines(
      `# ${hostOf(spec).name}: FreeBSD host; guests bridged to ${hostOf(spec).uplink}`,
      `# ${CITE.fbsdBridge}`,
      `cloned_interfaces="bridge0${taps.map((t) => ` ${t}`).join('')}"`,
      `ifconfig_bridge0="addm ${hostOf(spec).uplink}${taps.map((t) => ` addm ${t}`).join('')} up"`,
      ...taps.map((t) => `ifconfig_${t}="up"`),
    ),
  });
  for (const g of guests.filter((x) => x.hypervisor === 'bhyve')) {
    const mac = guestMac(spec, g);
    const nic = `${g.slot},virtio-net,${g.tap}${mac === undefined ? '' : `,mac=${mac}`}`;
    files.push({
      path: `${hostOf(spec).name}/usr/local/etc/bhyve/${g.name}.sh`,
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
