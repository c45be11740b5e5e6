// Token tables of libpcap's grammar.y, shared by the parsers.
import { BPF_ADD, BPF_AND, BPF_DIV, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_LSH, BPF_MOD, BPF_MUL, BPF_OR, BPF_RSH, BPF_SUB, BPF_XOR } from '../insn.js';
import type { Addr, Dir, Proto } from './ast.js';
import { ownTable } from './own-table.js';

export const PNAMES: Record<string, Proto> = ownTable({
  LINK: 'link', IP: 'ip', ARP: 'arp', RARP: 'rarp', SCTP: 'sctp', TCP: 'tcp', UDP: 'udp', ICMP: 'icmp',
  IGMP: 'igmp', IGRP: 'igrp', PIM: 'pim', VRRP: 'vrrp', CARP: 'carp', ATALK: 'atalk', AARP: 'aarp',
  DECNET: 'decnet', LAT: 'lat', SCA: 'sca', MOPDL: 'mopdl', MOPRC: 'moprc', IPV6: 'ip6', ICMPV6: 'icmp6',
  AH: 'ah', ESP: 'esp', ISO: 'iso', ESIS: 'esis', ISIS: 'isis', L1: 'l1', L2: 'l2', IIH: 'iih', LSP: 'lsp',
  SNP: 'snp', PSNP: 'psnp', CSNP: 'csnp', CLNP: 'clnp', STP: 'stp', IPX: 'ipx', NETBEUI: 'netbeui', RADIO: 'radio',
});
export const DQUALS: Record<string, Dir> = ownTable({ SRC: 'src', DST: 'dst', ADDR1: 'addr1', ADDR2: 'addr2', ADDR3: 'addr3', ADDR4: 'addr4', RA: 'ra', TA: 'ta' });
export const AQUALS: Record<string, Addr> = ownTable({ HOST: 'host', NET: 'net', PORT: 'port', PORTRANGE: 'portrange' });

// Binary arithmetic operators and their yacc precedence. '%' and '^' have
// none in grammar.y, so yacc always shifts on them: they take everything to
// their right (Infinity here, with the right operand parsed from level 0).
export const ARITH: Record<string, { op: number; prec: number }> = ownTable({
  '|': { op: BPF_OR, prec: 1 }, '&': { op: BPF_AND, prec: 2 },
  LSH: { op: BPF_LSH, prec: 3 }, RSH: { op: BPF_RSH, prec: 3 },
  '+': { op: BPF_ADD, prec: 4 }, '-': { op: BPF_SUB, prec: 4 },
  '*': { op: BPF_MUL, prec: 5 }, '/': { op: BPF_DIV, prec: 5 },
  '%': { op: BPF_MOD, prec: Infinity }, '^': { op: BPF_XOR, prec: Infinity },
});
export const UMINUS = 6;
export const RELOPS: Record<string, { op: number; reversed: boolean }> = ownTable({
  '>': { op: BPF_JGT, reversed: false }, GEQ: { op: BPF_JGE, reversed: false }, '=': { op: BPF_JEQ, reversed: false },
  LEQ: { op: BPF_JGT, reversed: true }, '<': { op: BPF_JGE, reversed: true }, NEQ: { op: BPF_JEQ, reversed: true },
});
export const NEEDS_NUM = new Set(['LESS', 'GREATER', 'IFINDEX', 'PF_RNR', 'PF_SRNR']);
export const OPTIONAL_NUM = new Set(['VLAN', 'MPLS', 'PPPOES', 'GENEVE', 'VXLAN']);
export const BARE = new Set(['INBOUND', 'OUTBOUND', 'PPPOED', 'LANE', 'METAC', 'BCC', 'OAMF4EC', 'OAMF4SC', 'SC', 'ILMIC', 'OAM', 'OAMF4',
  'CONNECTMSG', 'METACONNECT', 'FISU', 'LSSU', 'MSU', 'HFISU', 'HLSSU', 'HMSU']);

