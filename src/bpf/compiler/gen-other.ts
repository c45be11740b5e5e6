// The `other` productions: broadcast/multicast, less/greater, byte, the
// encapsulations that shift later offsets (vlan, mpls, pppoes), pflog fields
// and the link-specific keywords we reject (gencode.c).
import { BPF_ALU, BPF_AND, BPF_B, BPF_H, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JSET, BPF_K, BPF_LD, BPF_LEN, BPF_OR, BPF_W } from '../insn.js';
import type { Node } from './ast.js';
import { genAnd, genNot, genOr, jmp, type Block } from './block.js';
import { fail } from './errors.js';
import { PCAP_NETMASK_UNKNOWN, type Gen } from './gen.js';
import { genEhostop } from './gen-host.js';
import { ETHERTYPE, PPP_MPLS_UCAST, genLinktype } from './gen-link.js';
import { DLT } from './linktypes.js';
import { dataFrameCheck, p80211Dir, p80211Type, wlanHostop, wlanMulticast } from './gen-80211.js';
import { is80211 } from './gen-80211-prologue.js';
import { genGeneve, prevLinkhdrCheck } from './gen-geneve.js';
import { genLinkByteIsZero } from './gen-arith.js';
import { genVxlan } from './gen-vxlan.js';
import { ownTable } from './own-table.js';

type OtherNode = Extract<Node, { t: 'other' }>;

const BROADCAST = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];

// pf.h PFRES_NAMES and the action names of libpcap master's grammar.
const PF_REASONS = ['match', 'bad-offset', 'fragment', 'short', 'normalize', 'memory', 'bad-timestamp', 'congestion',
  'ip-option', 'proto-cksum', 'state-mismatch', 'state-insert', 'state-limit', 'src-limit', 'synproxy'];
const PF_ACTIONS: Record<string, number> = ownTable({
  pass: 0, accept: 0, drop: 1, block: 1, scrub: 2, noscrub: 3, nat: 4, nonat: 5, binat: 6, nobinat: 7, rdr: 8,
  nordr: 9, 'synproxy-drop': 10,
});

function dltName(g: Gen): string {
  return `DLT_${g.linktypeLabel}`;
}

function pflogOnly(g: Gen, kw: string): void {
  if (g.linktype !== DLT.PFLOG) fail(`'${kw}' supported only on PFLOG linktype`);
}

function genLen(g: Gen, op: number, n: number): Block {
  return g.block(jmp(op), n, [g.stmt(BPF_LD | BPF_LEN)]);
}

/** An Ethernet-header test inside Geneve first checks that there is a MAC header. */
function afterLinkCheck(g: Gen, b: Block): Block {
  const pre = prevLinkhdrCheck(g);
  if (pre !== null) genAnd(pre, b);
  return b;
}

function broadcast(g: Gen, n: OtherNode): Block {
  switch (n.proto) {
    case 'default':
    case 'link':
      if (is80211(g.linktype)) return wlanHostop(g, BROADCAST, 'dst');
      if (g.linktype !== DLT.EN10MB) fail(`'broadcast' not supported on ${dltName(g)}`);
      return afterLinkCheck(g, genEhostop(g, BROADCAST, 'dst'));
    case 'ip': {
      if (g.netmask === PCAP_NETMASK_UNKNOWN) fail("netmask not known, so 'ip broadcast' not supported");
      const b0 = genLinktype(g, ETHERTYPE.IP);
      const hostmask = ~g.netmask >>> 0;
      const b1 = g.mcmp('linkpl', 16, BPF_W, 0, hostmask);
      const b2 = g.mcmp('linkpl', 16, BPF_W, hostmask, hostmask);
      genOr(b1, b2);
      genAnd(b0, b2);
      return b2;
    }
    default:
      return fail(`'${n.proto}' is not a valid qualifier for 'broadcast'`);
  }
}

function multicast(g: Gen, n: OtherNode): Block {
  switch (n.proto) {
    case 'default':
    case 'link':
      if (is80211(g.linktype)) return wlanMulticast(g);
      if (g.linktype !== DLT.EN10MB) fail(`'multicast' not supported on ${dltName(g)}`);
      // ether[0] & 1 != 0
      return afterLinkCheck(g, g.block(jmp(BPF_JSET), 1, g.loadA('linkhdr', 0, BPF_B)));
    case 'ip': {
      const b0 = genLinktype(g, ETHERTYPE.IP);
      const b1 = g.cmpGe('linkpl', 16, BPF_B, 224);
      genAnd(b0, b1);
      return b1;
    }
    case 'ip6': {
      const b0 = genLinktype(g, ETHERTYPE.IPV6);
      const b1 = g.cmp('linkpl', 24, BPF_B, 255);
      genAnd(b0, b1);
      return b1;
    }
    default:
      return fail(`'${n.proto}' is not a valid qualifier for 'multicast'`);
  }
}

function byteop(g: Gen, n: OtherNode): Block {
  if (n.num2 > 255) fail(`byte argument ${String(n.num2)} greater than maximum 255`);
  switch (n.text) {
    case '=':
      return g.cmp('linkhdr', n.num, BPF_B, n.num2);
    case '<':
      return g.cmpLt('linkhdr', n.num, BPF_B, n.num2);
    case '>':
      return g.cmpGt('linkhdr', n.num, BPF_B, n.num2);
    default: {
      // libpcap 1.10.3 forgets to load the byte here (the test runs on
      // whatever A holds); master loads it. We follow master: it is what
      // pcap-filter(7) documents.
      const s = g.loadA('linkhdr', n.num, BPF_B);
      s.push(g.stmt(BPF_ALU | (n.text === '|' ? BPF_OR : BPF_AND) | BPF_K, n.num2));
      const b = g.block(jmp(BPF_JEQ), 0, s);
      genNot(b);
      return b;
    }
  }
}

function vlan(g: Gen, n: OtherNode): Block {
  if (g.labelStackDepth > 0) fail("'vlan' cannot be used within MPLS");
  // libpcap 1.10.3 also takes 802.11 frames (not PPI): the tag would follow the LLC/SNAP header.
  if (g.linktype !== DLT.EN10MB && !(is80211(g.linktype) && g.linktype !== DLT.PPI)) fail(`'vlan' not supported on ${dltName(g)}`);
  // Any of the three TPIDs (802.1Q, 802.1ad, QinQ), then the VID.
  let b0 = genLinktype(g, ETHERTYPE.VLAN_8021Q);
  let b1 = genLinktype(g, ETHERTYPE.VLAN_8021AD);
  genOr(b0, b1);
  b0 = b1;
  b1 = genLinktype(g, ETHERTYPE.VLAN_QINQ);
  genOr(b0, b1);
  b0 = b1;
  if (n.has) {
    if (n.num > 0x0fff) fail(`VLAN tag ${String(n.num)} greater than maximum 4095`);
    b1 = g.mcmp('linkpl', 0, BPF_H, n.num, 0x0fff);
    genAnd(b0, b1);
    b0 = b1;
  }
  // pcap-filter(7): everything after `vlan` is 4 bytes further in.
  g.off.linkpl.constant += 4;
  g.off.linktype.constant += 4;
  g.vlanStackDepth++;
  return b0;
}

function mpls(g: Gen, n: OtherNode): Block {
  let b0: Block;
  if (g.labelStackDepth > 0) {
    // Inner label: the previous one must not have had the bottom-of-stack bit.
    b0 = g.mcmp('prevmplshdr', 2, BPF_B, 0, 0x01);
  } else if (g.linktype === DLT.EN10MB || g.linktype === DLT.C_HDLC) {
    b0 = genLinktype(g, ETHERTYPE.MPLS);
  } else if (g.linktype === DLT.PPP) {
    // Only PPP proper, as in libpcap: not PPP_SERIAL, PPP_ETHER or PPP_BSDOS.
    b0 = genLinktype(g, PPP_MPLS_UCAST);
  } else {
    return fail(`'mpls' not supported on ${dltName(g)}`);
  }
  if (n.has) {
    if (n.num > 0xfffff) fail(`MPLS label ${String(n.num)} greater than maximum 1048575`);
    const b1 = g.mcmp('linkpl', 0, BPF_W, (n.num << 12) >>> 0, 0xfffff000);
    genAnd(b0, b1);
    b0 = b1;
  }
  g.off.nlNosnap += 4;
  g.off.nl += 4;
  g.labelStackDepth++;
  return b0;
}

function pppoes(g: Gen, n: OtherNode): Block {
  let b0 = genLinktype(g, ETHERTYPE.PPPOES);
  if (n.has) {
    if (n.num > 0xffff) fail(`PPPoE session number ${String(n.num)} greater than maximum 65535`);
    const b1 = g.mcmp('linkpl', 0, BPF_W, n.num, 0xffff);
    genAnd(b0, b1);
    b0 = b1;
  }
  // What follows is PPP: the PPP header starts after the 6-byte PPPoE header.
  const o = g.off;
  g.pushLinkhdr(DLT.PPP, o.linkpl.isVariable, o.linkpl.constant + o.nl + 6, o.linkpl.reg);
  o.linktype = { ...o.linkhdr };
  o.linkpl.constant = o.linkhdr.constant + 2;
  o.nl = 0;
  o.nlNosnap = 0;
  return b0;
}

// IEEE 802.2 control-field values (llc.h): S-frame and U-frame commands.
const LLC_S: Record<string, number> = ownTable({ rr: 0x01, rnr: 0x05, rej: 0x09 });
const LLC_U: Record<string, number> = ownTable({ ui: 0x03, ua: 0x63, disc: 0x43, dm: 0x0f, sabme: 0x6f, test: 0xe3, xid: 0xaf, frmr: 0x87 });

/** `llc [i|s|u|subtype]` on Ethernet: an 802.3 length, and not NetWare's 0xFFFF. */
function llc(g: Gen, n: OtherNode): Block {
  const wlan = is80211(g.linktype);
  if (g.linktype !== DLT.EN10MB && !wlan) fail(`'llc' not supported on ${dltName(g)}`);
  const base = (): Block => {
    // On 802.11, every data frame has an LLC header.
    if (wlan) return dataFrameCheck(g);
    const b0 = g.cmpGt('linktype', 0, BPF_H, 1500);
    genNot(b0);
    const b1 = g.cmp('llc', 0, BPF_H, 0xffff);
    genNot(b1);
    genAnd(b0, b1);
    return b1;
  };
  if (!n.has) return base();
  const kind = n.text.toLowerCase();
  const b0 = base();
  let b1: Block;
  if (kind === 'i') {
    b1 = g.jset('llc', 2, BPF_B, 0x01);
    genNot(b1);
  } else if (kind === 's') {
    b1 = g.mcmp('llc', 2, BPF_B, 0x01, 0x03);
  } else if (kind === 'u') {
    b1 = g.mcmp('llc', 2, BPF_B, 0x03, 0x03);
  } else if (LLC_S[kind] !== undefined) {
    b1 = g.mcmp('llc', 2, BPF_B, LLC_S[kind], 0x0f);
  } else if (LLC_U[kind] !== undefined) {
    b1 = g.mcmp('llc', 2, BPF_B, LLC_U[kind], 0xef);
  } else {
    return fail(`unknown LLC type name "${n.text}"`);
  }
  genAnd(b0, b1);
  return b1;
}

/** gen_inbound: the packet-direction fields of cooked and pflog headers. */
function direction(g: Gen, outbound: boolean): Block {
  const SLL_OUTGOING = 4;
  let b: Block;
  switch (g.linktype) {
    case DLT.LINUX_SLL:
      b = g.cmp('linkhdr', 0, BPF_H, SLL_OUTGOING);
      break;
    case DLT.LINUX_SLL2:
      b = g.cmp('linkhdr', 10, BPF_B, SLL_OUTGOING);
      break;
    case DLT.PFLOG:
      // struct pfloghdr dir: PF_IN 1, PF_OUT 2.
      return g.cmp('linkhdr', 60, BPF_B, outbound ? 2 : 1);
    case DLT.SLIP:
      // The pseudo-header's first byte: 0 received, 1 sent; libpcap builds
      // it as the relation `link[0] == 0`.
      return genLinkByteIsZero(g, outbound);
    default:
      return fail(`not a live capture, '${outbound ? 'outbound' : 'inbound'}' not supported on ${dltName(g)}`);
  }
  if (!outbound) genNot(b);
  return b;
}

export function genOther(g: Gen, n: OtherNode): Block {
  switch (n.what) {
    case 'broadcast': return broadcast(g, n);
    case 'multicast': return multicast(g, n);
    case 'less': {
      const b = genLen(g, BPF_JGT, n.num);
      genNot(b);
      return b;
    }
    case 'greater': return genLen(g, BPF_JGE, n.num);
    case 'byte': return byteop(g, n);
    case 'vlan': return vlan(g, n);
    case 'mpls': return mpls(g, n);
    case 'pppoed': return genLinktype(g, ETHERTYPE.PPPOED);
    case 'pppoes': return pppoes(g, n);
    case 'geneve':
      return genGeneve(g, n.has ? n.num : null);
    case 'vxlan':
      return genVxlan(g, n.has ? n.num : null);
    case 'pf_ifname':
    case 'pf_rset': {
      const kw = n.what === 'pf_ifname' ? 'ifname' : 'ruleset';
      pflogOnly(g, kw);
      if (n.text.length >= 16) fail(`${kw} names can only be 15 characters`);
      return g.bcmp('linkhdr', n.what === 'pf_ifname' ? 4 : 20, [...Buffer.from(n.text, 'latin1')]);
    }
    case 'pf_rnr':
      pflogOnly(g, 'rnr');
      return g.cmp('linkhdr', 36, BPF_W, n.num);
    case 'pf_srnr':
      pflogOnly(g, 'srnr');
      return g.cmp('linkhdr', 40, BPF_W, n.num);
    case 'pf_reason': {
      let v = n.num;
      if (!n.has) {
        v = PF_REASONS.findIndex((r) => r.toLowerCase() === n.text.toLowerCase());
        if (v < 0) fail(`unknown PF reason "${n.text}"`);
      }
      pflogOnly(g, 'reason');
      return g.cmp('linkhdr', 3, BPF_B, v);
    }
    case 'pf_action': {
      const v = PF_ACTIONS[n.text.toLowerCase()];
      if (v === undefined) return fail(`unknown PF action "${n.text}"`);
      pflogOnly(g, 'action');
      return g.cmp('linkhdr', 2, BPF_B, v);
    }
    case 'inbound':
    case 'outbound':
      return direction(g, n.what === 'outbound');
    case 'ifindex':
      if (g.linktype === DLT.LINUX_SLL2) return g.cmp('linkhdr', 4, BPF_W, n.num);
      return fail(`not a live capture, 'ifindex' not supported on ${dltName(g)}`);
    case 'type':
    case 'subtype':
      if (!is80211(g.linktype)) fail(`'type/subtype' not supported on ${dltName(g)}`);
      return p80211Type(g, n.num, n.num2);
    case 'p80211_error':
      return fail(n.text);
    case 'dir':
      if (!is80211(g.linktype)) fail(`'dir' not supported on ${dltName(g)}`);
      return p80211Dir(g, n.num);
    case 'llc':
      return llc(g, n);
    case 'fisu': case 'lssu': case 'msu': case 'hfisu': case 'hlssu': case 'hmsu':
    case 'sio': case 'opc': case 'dpc': case 'sls': case 'hsio': case 'hopc': case 'hdpc': case 'hsls':
      return fail(`'${n.what}' supported only on SS7`, [DLT.MTP2, DLT.MTP2_WITH_PHDR, DLT.MTP3]);
    default:
      return fail(`'${n.what}' supported only on SUNATM`, [DLT.SUNATM]);
  }
}

