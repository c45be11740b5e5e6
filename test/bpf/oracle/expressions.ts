// Our own expression set for oracle comparisons (pcap-filter(7) syntax).
// GENERIC compiles on every link type that carries IP; ETHER needs EN10MB-like link types.

export const GENERIC: readonly string[] = [
  'ip',
  'ip6',
  'tcp',
  'udp',
  'icmp',
  'icmp6',
  'tcp port 80',
  'udp port 53',
  'port 53 or port 123',
  'tcp portrange 1-1023',
  'host 10.0.0.1',
  'net 192.168.0.0/16',
  'src net 10.0.0.0/8 and dst port 22',
  'ip6 and tcp',
  'tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn',
  'icmp[icmptype] == icmp-echo',
  'ip[6:2] & 0x1fff != 0',
  'len > 100',
  'less 64',
  'greater 1000',
  'ip[2:2] - ((ip[0]&0xf)<<2) - ((tcp[12]&0xf0)>>2) != 0',
  'ip proto 47',
  'ip6 protochain 6',
  'not ip and not ip6',
  'ip and (tcp or udp) and not port 22',
  'ip[8] < 64',
  'ip6[6] == 17',
  'udp[8:4] == 0x01020304 or tcp[13] & 7 != 0',
  'ip host 192.168.1.1 or ip6 host fe80::1',
  'ip[0] & 0xf > 5',
];

export const ETHER: readonly string[] = [
  'arp',
  'ether broadcast',
  'ether multicast',
  'vlan',
  'vlan and ip',
  'vlan 100 and tcp',
  'mpls',
  'pppoes and ip',
  'ether host 00:11:22:33:44:55',
  'ether proto 0x88cc',
  'ip and (host 10.0.0.1 or multicast or broadcast)',
  'ip multicast',
  'ether[0] & 1 != 0',
];

/** The four filters of the throughput benchmark (the jail prefix uses 192.0.2.1). */
export const BENCH_FILTERS: readonly string[] = [
  'tcp port 80',
  'ip and (host 192.0.2.1 or multicast or broadcast)',
  'ip and (host 192.0.2.1 or multicast or broadcast) and (tcp port 80 or udp port 53)',
  'tcp port 80 or udp port 53 or icmp or (ip6 and tcp[13] & 2 != 0) or net 10.0.0.0/8',
];
