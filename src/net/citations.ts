// Where each template line comes from. Every rendered line that follows a
// document cites it in a comment beside it, so a reader can check the source.

export const CITE = {
  seed: 'seed 000, "Running FreeBSD / OpenBSD / NetBSD as a virtualised guest on Online.net"',
  seedVpn: 'seed 000, "Building a l2tp/IPsec VPN based around a OpenBSD head-end"',
  fbsdRcConf: 'rc.conf(5): ifconfig_<interface>, static_routes, route_<name>',
  fbsdCloned: 'rc.conf(5): cloned_interfaces, create_args_<interface>, ifconfig_<interface>_ipv6, ipv6_defaultrouter',
  fbsdRcConfD:
    'rc.subr(8) load_rc_config NAME (libexec/rc/rc.subr): a script sources /etc/rc.conf, then /etc/rc.conf.d/NAME for its own NAME only',
  fbsdNetif: 'libexec/rc/rc.d/netif: name="netif"; "load_rc_config network" then "load_rc_config $name": reads rc.conf.d/network and rc.conf.d/netif',
  fbsdRouting: 'libexec/rc/rc.d/routing: name="routing"; "load_rc_config $name": of rc.conf.d it reads routing alone; static_inet adds static_routes in order',
  fbsdBhyve: 'bhyve(8): -s slot,virtio-net,tapN,mac=xx:xx:xx:xx:xx:xx',
  fbsdBridge: 'if_bridge(4), rc.conf(5): ifconfig_bridge0="addm IF"',
  obsdHostnameIf: 'hostname.if(5): lines starting with "!" are run as commands',
  obsdRoute: 'route(8): -llinfo -link -static -iface (OVH/SoYouStart failover guides for OpenBSD)',
  obsdGif: 'gif(4), hostname.if(5): tunnel SRC DST, inet6 alias ADDR PREFIXLEN, dest ADDR',
  obsdIpsec: 'ipsec.conf(5): ike passive esp transport proto udp from A to any port 1701 psk',
  obsdIpsecCrypto: 'ipsec.conf(5): main auth/enc/group, quick auth/enc/group',
  obsdPf: 'pf.conf(5), seed 000: pass isakmp, ipsec-nat-t, esp, ah; pass on enc0',
  obsdPfAnchor: 'pf.conf(5) ANCHORS: anchor "NAME"; load anchor "NAME" from "FILE"; pfctl(8) -a NAME -f FILE',
  obsdNpppd: 'npppd.conf(5): tunnel L2TP protocol l2tp, ipcp, interface pppx0, bind',
  obsdNpppdUsers: 'npppd-users(5): :password=…:framed-ip-address=…:',
  obsdPipex: 'pipex(4), sysctl.conf(5): net.pipex.enable=1 (seed 000: 5.8 panics without it)',
  obsdRcConfLocal: 'rc.conf.local(8): isakmpd_flags="-K", ipsec=YES, npppd_flags=""',
  pfSkipLo: 'seed 001: without VIMAGE, jail traffic from this host reaches the jail via lo0, so do not "set skip on lo0"',
  nbsdIfconfigIf: 'ifconfig.if(5): one ifconfig(8) argument line per line, "!" runs a command',
  nbsdRouteConf: 'route.conf(5): lines are passed to "route add -"',
  nbsdNetstartLocal: 'rc.conf(5) and the NetBSD Network FAQ: /etc/netstart.local holds console commands',
  nbsdGif: 'gif(4), ifconfig.if(5): tunnel SRC DST; inet6 ADDR DST prefixlen 128',
  ifupdown: 'interfaces(5): inet static, pointopoint (Hetzner and Scaleway failover guides)',
  ifupdownV6: 'interfaces(5): inet6 v4tunnel, endpoint, local, ttl (Hurricane Electric Debian example)',
  netplan: 'netplan(5) YAML reference: routes[].on-link: true (OVH bridge-mode guide for netplan)',
  netplanTunnel: 'netplan(5) YAML reference: tunnels[].mode: sit, local, remote, addresses, routes',
  networkd: 'systemd.network(5): [Route] Gateway=, GatewayOnLink=yes',
  networkdTunnel: 'systemd.netdev(5): [Tunnel] Local=, Remote=; Kind=sit',
  ipRoute: 'ip-route(8): a host route with scope link, then the default route via it',
  ipTunnel: 'ip-tunnel(8): mode sit remote R local L ttl 255 (Hurricane Electric Linux example)',
  swanctl: 'swanctl.conf(5): version = 1 (IKEv1), mode = transport, local_ts = dynamic[udp/l2tp]',
  swanctlCrypto: 'swanctl.conf(5): proposals, esp_proposals',
  xl2tpd: 'xl2tpd.conf(5): [lns default] ip range, local ip, pppoptfile',
  pppOptions: 'pppd(8): ms-dns, require-mschap-v2, refuse-pap',
  chapSecrets: 'pppd(8) chap-secrets: client server secret IP',
  qemu: 'qemu(1): -netdev tap,ifname=…,script=no -device virtio-net-pci,mac=…',
} as const;

/** A comment line in shell-like files (rc.conf, hostname.if, pf.conf, interfaces…). */
export function hashCite(key: keyof typeof CITE): string {
  return `# ${CITE[key]}`;
}
