// The parsed form of a pcap-filter(7) expression. Qualifiers are resolved
// while parsing (libpcap passes them along the yacc value stack: an `id`
// after `and`/`or` inherits the qualifiers of what came before), so code
// generation needs no context beyond each node.

export type Proto =
  | 'default' | 'link' | 'ip' | 'arp' | 'rarp' | 'sctp' | 'tcp' | 'udp' | 'icmp' | 'igmp' | 'igrp' | 'pim'
  | 'vrrp' | 'carp' | 'atalk' | 'aarp' | 'decnet' | 'lat' | 'sca' | 'moprc' | 'mopdl' | 'ip6' | 'icmp6'
  | 'ah' | 'esp' | 'iso' | 'esis' | 'isis' | 'l1' | 'l2' | 'iih' | 'lsp' | 'snp' | 'psnp' | 'csnp' | 'clnp'
  | 'stp' | 'ipx' | 'netbeui' | 'radio' | 'undef';
export type Dir = 'default' | 'src' | 'dst' | 'or' | 'and' | 'addr1' | 'addr2' | 'addr3' | 'addr4' | 'ra' | 'ta' | 'undef';
export type Addr = 'default' | 'host' | 'net' | 'port' | 'portrange' | 'gateway' | 'proto' | 'protochain' | 'undef';

export interface Qual {
  proto: Proto;
  dir: Dir;
  addr: Addr;
}

export const QERR: Qual = { proto: 'undef', dir: 'undef', addr: 'undef' };

export interface Span {
  start: number;
  end: number;
}

export type Arth =
  | { t: 'num'; v: number; span: Span }
  | { t: 'len'; span: Span }
  | { t: 'load'; proto: Proto; index: Arth; size: number; span: Span }
  | { t: 'bin'; op: number; l: Arth; r: Arth; span: Span }
  | { t: 'neg'; e: Arth; span: Span };

export type IdKind = 'name' | 'num' | 'hid' | 'hidlen' | 'hidmask' | 'hid6' | 'hid6len' | 'eid' | 'aid';

export type Node =
  | { t: 'and' | 'or'; l: Node; r: Node; span: Span }
  | { t: 'not'; e: Node; span: Span }
  | { t: 'id'; kind: IdKind; text: string; text2: string; num: number; q: Qual; span: Span; clause?: Span }
  | { t: 'pname'; proto: Proto; span: Span }
  | { t: 'rel'; op: number; reversed: boolean; l: Arth; r: Arth; span: Span }
  | { t: 'other'; what: string; proto: Proto; num: number; num2: number; has: boolean; text: string; span: Span };
