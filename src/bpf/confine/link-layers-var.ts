// Link types whose IP header sits at an offset read from the packet: PFLOG,
// and 802.11 behind its radio headers. Header lengths are computed into
// M[0] (the radio or pflog header) and M[2] (the 802.11 MAC header), the
// 802.11 payload offset into M[1]; everything after is addressed from them.
import type { Insn } from '../insn.js';
import { conjunction } from './policy-tree.js';
import { AF_INET6, ethertypeChain, type Cond, type Dispatch, type L3, type LinkLayer, type LinkNode } from './link-layers.js';

const ins = (code: number, k = 0): Insn => ({ code, jt: 0, jf: 0, k: k >>> 0 });
/** A = little-endian u16 at `off` (radiotap and PPI lengths are little-endian). */
const le16 = (off: number): Insn[] => [ins(0x30, off + 1), ins(0x64, 8), ins(0x07), ins(0x30, off), ins(0x4c)];
const one = (c: Omit<Cond, 'value'>, value: number, next: LinkNode): Dispatch => ({ kind: 'dispatch', ...c, cases: [{ value, next }] });

/**
 * PFLOG: the header's length is its first byte, rounded up to a multiple of 4
 * (BPF_WORDALIGN, as libpcap and tcpdump's print-pflog.c read it); the
 * address family is the byte after it, in the logging host's AF_ numbering.
 */
export function pflogLayer(): LinkLayer {
  const v6: L3 = { kind: 'l3', family: 6, base: 0, off: 0 };
  const af: Dispatch = {
    kind: 'dispatch', off: 1, size: 1, mask: 0xff,
    cases: [{ value: 2, next: { kind: 'l3', family: 4, base: 0, off: 0 } }, ...AF_INET6.map((value) => ({ value, next: v6 }))],
  };
  return { name: 'PFLOG', root: { kind: 'compute', slot: 0, code: [ins(0x30, 0), ins(0x04, 3), ins(0x54, 0xfffffffc)], next: af }, broadcast: [] };
}

const RADIO = 0;
const PAYLOAD = 1;
/** Radiotap present words we look through to find the Flags field; more are rejected. */
export const MAX_RADIOTAP_WORDS = 4;

/** M[2]: the MAC header's length, a constant on each path. */
const HEADER = 2;

/**
 * What follows the MAC header, one copy per link type whatever the header's
 * length (and padding): the payload offset M[1] = M[0] + M[2], then RFC 1042
 * LLC/SNAP and the EtherType. The broadcast test goes right before the
 * payload offset is computed (`broadcastAt`), so the facts it leaves behind
 * are forgotten there by the checker (tree-walk.ts) rather than multiplying
 * its paths.
 */
class Shared {
  readonly payload: LinkNode;
  readonly headers = new Map<number, LinkNode>();

  constructor(readonly radio: number | undefined) {
    const snap = one({ base: PAYLOAD, off: 0, size: 4, mask: 0xffffffff }, 0xaaaa0300,
      one({ base: PAYLOAD, off: 4, size: 2, mask: 0xffff }, 0, ethertypeChain(6, 8, 0, PAYLOAD)));
    const code = radio === undefined ? [ins(0x60, HEADER)] : [ins(0x61, radio), ins(0x60, HEADER), ins(0x0c)];
    this.payload = { kind: 'compute', slot: PAYLOAD, code, next: snap };
  }
}

/**
 * The 802.11 MAC header (IEEE 802.11-2020 §9.2.4.1) from `radio` (a slot, or
 * the packet's start), then RFC 1042 LLC/SNAP and the EtherType. Only data
 * frames that carry data: Frame Control byte 0 has protocol version 0, type
 * 2 (data), subtype bit 0x40 (no data) clear; bit 0x80 marks QoS. Byte 1:
 * ToDS and FromDS both set add a fourth address (6 bytes); a QoS frame with
 * the Order bit (+HTC) carries a 4-byte HT Control field. A QoS frame whose
 * A-MSDU bit is set holds several subframes and is rejected. With radiotap's
 * DATAPAD flag the payload starts at the next multiple of 4 after the header.
 */
function dot11(pad: boolean, shared: Shared): LinkNode {
  const at = shared.radio === undefined ? {} : { base: shared.radio };
  const header = (len: number): LinkNode => {
    const h = pad ? (len + 3) & ~3 : len;
    let node = shared.headers.get(h);
    if (node === undefined) {
      node = { kind: 'compute', slot: HEADER, code: [ins(0x00, h)], next: shared.payload };
      shared.headers.set(h, node);
    }
    return node;
  };
  // QoS Control follows the addresses; its first byte's bit 0x80 is "A-MSDU present".
  const qos = (qosOff: number, htc: boolean): LinkNode =>
    one({ ...at, off: qosOff, size: 1, mask: 0x80 }, 0, header(qosOff + 2 + (htc ? 4 : 0)));
  const order = (qosOff: number): LinkNode => ({
    kind: 'dispatch', ...at, off: 1, size: 1, mask: 0x80, cases: [{ value: 0, next: qos(qosOff, false) }, { value: 0x80, next: qos(qosOff, true) }],
  });
  // ToDS and FromDS both set: four addresses.
  const ds = (four: LinkNode, three: LinkNode): Dispatch => ({ kind: 'dispatch', ...at, off: 1, size: 1, mask: 0x03, cases: [{ value: 3, next: four }], otherwise: three });
  const plain = ds(header(30), header(24));
  const qosFc = ds(order(30), order(24));
  return { kind: 'dispatch', ...at, off: 0, size: 1, mask: 0xcf, cases: [{ value: 0x08, next: plain }, { value: 0x88, next: qosFc }] };
}

/**
 * Radiotap (radiotap.org): it_version 0 at 0, it_len (LE) at 2, it_present
 * words (LE) from 4, each with bit 31 announcing another. Fields follow the
 * last word, aligned to their size from the header's start, in bit order:
 * TSFT (bit 0, 8 bytes), then Flags (bit 1, 1 byte; 0x20 = DATAPAD).
 */
function radiotap(shared: Shared): LinkNode {
  const noPad = dot11(false, shared);
  const padded = dot11(true, shared);
  const flagsAt = (off: number): LinkNode => ({
    kind: 'dispatch', off, size: 1, mask: 0x20, cases: [{ value: 0, next: noPad }, { value: 0x20, next: padded }],
  });
  const words = (tsft: boolean, n: number): LinkNode => {
    const fields = 4 + 4 * n;
    const flags = tsft ? ((fields + 7) & ~7) + 8 : fields;
    const cases: Dispatch['cases'] = [{ value: 0, next: flagsAt(flags) }];
    if (n < MAX_RADIOTAP_WORDS) cases.push({ value: 0x80, next: words(tsft, n + 1) });
    return { kind: 'dispatch', off: 4 * n + 3, size: 1, mask: 0x80, cases };
  };
  const tsft: Dispatch = { kind: 'dispatch', off: 4, size: 1, mask: 0x01, cases: [{ value: 0, next: words(false, 1) }, { value: 1, next: words(true, 1) }] };
  const present: Dispatch = { kind: 'dispatch', off: 4, size: 1, mask: 0x02, cases: [{ value: 0, next: noPad }, { value: 2, next: tsft }] };
  return one({ off: 0, size: 1, mask: 0xff }, 0, { kind: 'compute', slot: RADIO, code: le16(2), next: present });
}

/**
 * AVS (the wlan-ng capture header): a big-endian magic 0x8021100x at 0 and
 * the header length, big-endian u32, at 4. Lengths of 64 KiB and more are
 * rejected, so that adding the 802.11 header length cannot wrap.
 */
function avs(shared: Shared): LinkNode {
  return one({ off: 4, size: 4, mask: 0xffff0000 }, 0, { kind: 'compute', slot: RADIO, code: [ins(0x20, 4)], next: dot11(false, shared) });
}
const AVS_MAGIC = { off: 0, size: 4, mask: 0xfffff000 } as const;

/**
 * Link-layer broadcast: the destination address is Address 1 when ToDS is
 * clear, else Address 3 (IEEE 802.11-2020 Table 9-30); ToDS is read once.
 */
function dot11Broadcast(radio: number | undefined): (yes: LinkNode, no: LinkNode) => LinkNode {
  const at = radio === undefined ? {} : { base: radio };
  const da = (off: number, yes: LinkNode, no: LinkNode): LinkNode => conjunction([
    { ...at, off, size: 4, mask: 0xffffffff, value: 0xffffffff },
    { ...at, off: off + 4, size: 2, mask: 0xffff, value: 0xffff },
  ], yes, no);
  return (yes, no) => ({ kind: 'dispatch', ...at, off: 1, size: 1, mask: 0x01, cases: [{ value: 0, next: da(4, yes, no) }, { value: 1, next: da(16, yes, no) }] });
}

export function ieee80211Layer(linktype: number): LinkLayer {
  const shared = new Shared(linktype === 105 ? undefined : RADIO);
  const common = { broadcastAt: shared.payload };
  switch (linktype) {
    case 105:
      return { name: 'IEEE802_11', root: dot11(false, shared), broadcast: [], broadcastTree: dot11Broadcast(undefined), ...common };
    case 127:
      return { name: 'IEEE802_11_RADIO', root: radiotap(shared), broadcast: [], broadcastTree: dot11Broadcast(RADIO), ...common };
    case 163:
      return { name: 'IEEE802_11_RADIO_AVS', root: one(AVS_MAGIC, 0x80211000, avs(shared)), broadcast: [], broadcastTree: dot11Broadcast(RADIO), ...common };
    case 119: {
      // libpcap's rule: an AVS header if the magic is there, else a 144-byte Prism header.
      const prism: LinkNode = { kind: 'compute', slot: RADIO, code: [ins(0x00, 144)], next: dot11(false, shared) };
      const root: Dispatch = { kind: 'dispatch', ...AVS_MAGIC, cases: [{ value: 0x80211000, next: avs(shared) }], otherwise: prism };
      return { name: 'PRISM_HEADER', root, broadcast: [], broadcastTree: dot11Broadcast(RADIO), ...common };
    }
    default: {
      // PPI: pph_version 0 at 0, pph_len (LE) at 2, pph_dlt (LE) at 4; only 802.11 inside.
      const ppi = one({ off: 4, size: 4, mask: 0xffffffff }, 0x69000000, { kind: 'compute', slot: RADIO, code: le16(2), next: dot11(false, shared) });
      return { name: 'PPI', root: one({ off: 0, size: 1, mask: 0xff }, 0, ppi), broadcast: [], broadcastTree: dot11Broadcast(RADIO), ...common };
    }
  }
}
