// `vxlan [VNI]` (RFC 7348), as libpcap master compiles it (gencode.c
// gen_vxlan; Debian's 1.10.3 has no vxlan, so master's accept and apply
// tests are the reference): UDP to port 4789, the flags byte with only the
// I bit (0x08), optionally the VNI; then everything after it in the
// expression is about the encapsulated Ethernet frame, whose offsets are
// computed into scratch registers when the VXLAN test matches.
import { BPF_ADD, BPF_ALU, BPF_B, BPF_K, BPF_MISC, BPF_ST, BPF_STX, BPF_TAX } from '../insn.js';
import type { Block, Stmt } from './block.js';
import type { Gen } from './gen.js';
import { genUdpEncap, udpEncapCheck, type EncapCheck } from './gen-geneve.js';
import { DLT } from './linktypes.js';

const VXLAN_PORT = 4789; // RFC 7348 §5, the IANA-assigned port
const VXLAN_FLAGS_I = 0x08; // RFC 7348 §5: I flag set, the reserved bits zero
const VXLAN_HDRLEN = 8;
const UDP_HDRLEN = 8;
const ETHER_TYPE_OFFSET = 12;

const check: EncapCheck = (g, port, rel, vni) => udpEncapCheck(g, port, rel, vni, VXLAN_PORT, () => g.cmp(rel, 8, BPF_B, VXLAN_FLAGS_I));

/**
 * With the IP header length in A: store the offsets of the inner Ethernet
 * header, of its EtherType and of its payload (gen_vxlan_offsets).
 */
function offsets(g: Gen): Stmt[] {
  const o = g.off;
  const s: Stmt[] = [g.stmt(BPF_ALU | BPF_ADD | BPF_K, o.linkpl.constant + o.nl + UDP_HDRLEN), g.stmt(BPF_ALU | BPF_ADD | BPF_K, VXLAN_HDRLEN)];
  g.pushLinkhdr(DLT.EN10MB, true, 0, g.allocReg());
  s.push(g.stmt(BPF_ST, o.linkhdr.reg), g.stmt(BPF_ALU | BPF_ADD | BPF_K, ETHER_TYPE_OFFSET));
  o.linktype = { constant: 0, isVariable: true, reg: g.allocReg() };
  s.push(g.stmt(BPF_ST, o.linktype.reg), g.stmt(BPF_ALU | BPF_ADD | BPF_K, 2), g.stmt(BPF_MISC | BPF_TAX));
  o.linkpl = { constant: 0, isVariable: true, reg: g.allocReg() };
  s.push(g.stmt(BPF_STX, o.linkpl.reg));
  o.nl = 0;
  return s;
}

export function genVxlan(g: Gen, vni: number | null): Block {
  return genUdpEncap(g, 'VXLAN', vni, check, offsets);
}
