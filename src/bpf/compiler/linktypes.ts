// Link-layer header types the compiler supports, with the offsets libpcap's
// init_linktype() gives them (gencode.c). DLT numbers are Linux's
// (pcap/dlt.h); LINKTYPE_RAW (101), as found in capture files, means DLT_RAW.
import { MoatError } from '../../core/index.js';
import { fail } from './errors.js';
import { ownTable } from './own-table.js';

export const DLT = {
  NULL: 0, EN10MB: 1, SLIP: 8, PPP: 9, RAW: 12, PPP_BSDOS: 16, PPP_SERIAL: 50, PPP_ETHER: 51, C_HDLC: 104,
  FRELAY: 107, LOOP: 108, LINUX_SLL: 113, PFLOG: 117, IEEE802_11: 105,
  PRISM_HEADER: 119, IEEE802_11_RADIO: 127, IEEE802_11_RADIO_AVS: 163, PPI: 192,
  IPV4: 228, IPV6: 229, LINUX_SLL2: 276,
  // SS7 and SunATM: only named, in the refusal of their keywords on other link types.
  MTP2_WITH_PHDR: 139, MTP2: 140, MTP3: 141, SUNATM: 123,
} as const;

// DLT names and values as libpcap 1.10.3 on Linux knows them
// (pcap_datalink_val_to_name); `-y` accepts these, case-insensitively.
const DLT_TABLE = [
  'NULL:0,EN10MB:1,IEEE802:6,ARCNET:7,SLIP:8,PPP:9,FDDI:10,ATM_RFC1483:11,RAW:12,SLIP_BSDOS:15,PPP_BSDOS:16,ATM_C',
  'LIP:19,PPP_SERIAL:50,PPP_ETHER:51,SYMANTEC_FIREWALL:99,C_HDLC:104,IEEE802_11:105,FRELAY:107,LOOP:108,ENC:109,L',
  'INUX_SLL:113,LTALK:114,PFLOG:117,PRISM_HEADER:119,IP_OVER_FC:122,SUNATM:123,IEEE802_11_RADIO:127,ARCNET_LINUX:',
  '129,JUNIPER_MLPPP:130,JUNIPER_MLFR:131,JUNIPER_ES:132,JUNIPER_GGSN:133,JUNIPER_MFR:134,JUNIPER_ATM2:135,JUNIPE',
  'R_SERVICES:136,JUNIPER_ATM1:137,APPLE_IP_OVER_IEEE1394:138,MTP2_WITH_PHDR:139,MTP2:140,MTP3:141,SCCP:142,DOCSI',
  'S:143,LINUX_IRDA:144,IEEE802_11_RADIO_AVS:163,JUNIPER_MONITOR:164,BACNET_MS_TP:165,PPP_PPPD:166,JUNIPER_PPPOE:',
  '167,JUNIPER_PPPOE_ATM:168,GPRS_LLC:169,GPF_T:170,GPF_F:171,JUNIPER_PIC_PEER:174,ERF_ETH:175,ERF_POS:176,LINUX_',
  'LAPD:177,JUNIPER_ETHER:178,JUNIPER_PPP:179,JUNIPER_FRELAY:180,JUNIPER_CHDLC:181,MFR:182,JUNIPER_VP:183,A429:18',
  '4,A653_ICM:185,USB_FREEBSD:186,BLUETOOTH_HCI_H4:187,IEEE802_16_MAC_CPS:188,USB_LINUX:189,CAN20B:190,IEEE802_15',
  '_4_LINUX:191,PPI:192,IEEE802_16_MAC_CPS_RADIO:193,JUNIPER_ISM:194,IEEE802_15_4:195,SITA:196,ERF:197,RAIF1:198,',
  'IPMB_KONTRON:199,JUNIPER_ST:200,BLUETOOTH_HCI_H4_WITH_PHDR:201,AX25_KISS:202,IPMB_LINUX:209,IEEE802_15_4_NONAS',
  'K_PHY:215,LINUX_EVDEV:216,MPLS:219,USB_LINUX_MMAPPED:220,DECT:221,AOS:222,WIHART:223,FC_2:224,FC_2_WITH_FRAME_',
  'DELIMS:225,IPNET:226,CAN_SOCKETCAN:227,IPV4:228,IPV6:229,IEEE802_15_4_NOFCS:230,DBUS:231,JUNIPER_VS:232,JUNIPE',
  'R_SRX_E2E:233,JUNIPER_FIBRECHANNEL:234,DVB_CI:235,MUX27010:236,STANAG_5066_D_PDU:237,JUNIPER_ATM_CEMIC:238,NFL',
  'OG:239,NETANALYZER:240,NETANALYZER_TRANSPARENT:241,IPOIB:242,MPEG_2_TS:243,NG40:244,NFC_LLCP:245,PFSYNC:246,IN',
  'FINIBAND:247,SCTP:248,USBPCAP:249,RTAC_SERIAL:250,BLUETOOTH_LE_LL:251,NETLINK:253,BLUETOOTH_LINUX_MONITOR:254,',
  'BLUETOOTH_BREDR_BB:255,BLUETOOTH_LE_LL_WITH_PHDR:256,PROFIBUS_DL:257,PKTAP:258,EPON:259,IPMI_HPM_2:260,ZWAVE_R',
  '1_R2:261,ZWAVE_R3:262,WATTSTOPPER_DLM:263,ISO_14443:264,RDS:265,USB_DARWIN:266,OPENFLOW:267,SDLC:268,TI_LLN_SN',
  'IFFER:269,VSOCK:271,NORDIC_BLE:272,DOCSIS31_XRA31:273,ETHERNET_MPACKET:274,DISPLAYPORT_AUX:275,LINUX_SLL2:276,',
  'OPENVIZSLA:278,EBHSCR:279,VPP_DISPATCH:280,DSA_TAG_BRCM:281,DSA_TAG_BRCM_PREPEND:282,IEEE802_15_4_TAP:283,DSA_',
  'TAG_DSA:284,DSA_TAG_EDSA:285,ELEE:286,Z_WAVE_SERIAL:287,USB_2_0:288,ATSC_ALP:289',
].join('');

const NAMES: Readonly<Record<string, number>> = ownTable(Object.fromEntries(
  DLT_TABLE.split(',').filter((e) => e !== '').map((e) => {
    const [name = '', value = '0'] = e.split(':');
    return [name, Number(value)];
  }),
) as Record<string, number>);

const DESCRIPTIONS: Record<number, string> = {
  0: 'BSD loopback', 1: 'Ethernet', 8: 'SLIP', 9: 'PPP', 12: 'Raw IP', 16: 'BSD/OS PPP', 50: 'PPP over serial',
  51: 'PPPoE', 104: 'Cisco HDLC', 107: 'Frame Relay', 108: 'OpenBSD loopback', 113: 'Linux cooked v1',
  117: 'OpenBSD pflog file', 105: '802.11', 119: '802.11 plus Prism header', 127: '802.11 plus radiotap header',
  163: '802.11 plus AVS radio information header', 192: 'Per-Packet Information', 228: 'Raw IPv4',
  229: 'Raw IPv6', 276: 'Linux cooked v2',
};

export function linktypeByName(name: string): number | undefined {
  const up = name.toUpperCase().replace(/^DLT_/, '');
  const v = NAMES[up];
  if (v !== undefined) return v;
  if (/^\d+$/.test(name)) return Number(name);
  return undefined;
}

/** Each value of NAMES by its first name (made once: error messages ask it, and rejected expressions are many in some uses). */
const NAME_OF = new Map<number, string>();
for (const [k, v] of Object.entries(NAMES)) if (!NAME_OF.has(v)) NAME_OF.set(v, k);

export function linktypeName(dlt: number): string {
  return NAME_OF.get(dlt) ?? String(dlt);
}

export function linktypeDescription(dlt: number): string {
  return DESCRIPTIONS[dlt] ?? `DLT ${String(dlt)}`;
}

// Capture-file LINKTYPE_ values that mean DLT_RAW (pcap-linktype(7)):
// LINKTYPE_RAW, and OpenBSD's DLT_RAW number as found in its captures.
const LINKTYPE_RAW = 101;
const LINKTYPE_OPENBSD_RAW = 14;

/** Map capture-file LINKTYPE_ values that differ from Linux DLT_ values. */
export function normalizeLinktype(lt: number): number {
  if (lt === LINKTYPE_RAW || lt === LINKTYPE_OPENBSD_RAW) return DLT.RAW;
  return lt;
}

export const OFFSET_NOT_SET = -1;

export interface AbsOffset {
  constant: number;
  isVariable: boolean;
  reg: number;
}

export interface LinkOffsets {
  linkhdr: AbsOffset;
  linktype: AbsOffset;
  linkpl: AbsOffset;
  nl: number;
  nlNosnap: number;
}

const off = (constant: number, isVariable = false): AbsOffset => ({ constant, isVariable, reg: -1 });

export function initLinktype(dlt: number): LinkOffsets {
  switch (dlt) {
    case DLT.EN10MB:
      return { linkhdr: off(0), linktype: off(12), linkpl: off(14), nl: 0, nlNosnap: 3 };
    case DLT.NULL:
    case DLT.LOOP:
      return { linkhdr: off(0), linktype: off(0), linkpl: off(4), nl: 0, nlNosnap: 0 };
    case DLT.RAW:
    case DLT.IPV4:
    case DLT.IPV6:
      return { linkhdr: off(0), linktype: off(OFFSET_NOT_SET), linkpl: off(0), nl: 0, nlNosnap: 0 };
    case DLT.LINUX_SLL:
      return { linkhdr: off(0), linktype: off(14), linkpl: off(16), nl: 0, nlNosnap: 0 };
    case DLT.SLIP:
      // The 16-byte pseudo-header (direction byte, then the compressed
      // TCP/IP header) of the BSD SLIP driver; no type field.
      return { linkhdr: off(0), linktype: off(OFFSET_NOT_SET), linkpl: off(16), nl: 0, nlNosnap: 0 };
    case DLT.PPP:
    case DLT.PPP_SERIAL:
    case DLT.C_HDLC:
      // HDLC-like framing (address, control), then a 2-byte protocol field.
      return { linkhdr: off(0), linktype: off(2), linkpl: off(4), nl: 0, nlNosnap: 0 };
    case DLT.PPP_ETHER:
      // The PPPoE session header without the Ethernet header.
      return { linkhdr: off(0), linktype: off(6), linkpl: off(8), nl: 0, nlNosnap: 0 };
    case DLT.PPP_BSDOS:
      return { linkhdr: off(0), linktype: off(5), linkpl: off(24), nl: 0, nlNosnap: 0 };
    case DLT.FRELAY:
      // Q.922 address (2 bytes), then control and NLPID: no EtherType, and,
      // as in libpcap, the payload offset stays 0 (gencode.c: "XXX").
      return { linkhdr: off(0), linktype: off(OFFSET_NOT_SET), linkpl: off(0), nl: 0, nlNosnap: 0 };
    case DLT.LINUX_SLL2:
      return { linkhdr: off(0), linktype: off(0), linkpl: off(20), nl: 0, nlNosnap: 0 };
    case DLT.PFLOG:
      // The pflog header's length is its first byte, rounded up to 4
      // (gen_load_pflog_llprefixlen), so the payload offset is variable.
      return { linkhdr: off(0), linktype: off(0), linkpl: off(0, true), nl: 0, nlNosnap: 0 };
    case DLT.PRISM_HEADER:
    case DLT.IEEE802_11_RADIO_AVS:
    case DLT.IEEE802_11_RADIO:
    case DLT.PPI:
      // A radio header of variable length precedes the 802.11 frame.
      return { linkhdr: off(0, true), linktype: off(24), linkpl: off(0, true), nl: 8, nlNosnap: 3 };
    case DLT.IEEE802_11:
      // The MAC header's length depends on the frame (computed at run
      // time); the payload is 802.2 LLC, with SNAP for EtherTypes (8 bytes).
      return { linkhdr: off(0), linktype: off(24), linkpl: off(0, true), nl: 8, nlNosnap: 3 };
    default:
      return fail(unsupportedMessage(dlt));
  }
}

/** The link types initLinktype() knows (made once: asked on every compile). */
const SUPPORTED = new Set<number>([DLT.EN10MB, DLT.NULL, DLT.LOOP, DLT.RAW, DLT.IPV4, DLT.IPV6, DLT.LINUX_SLL, DLT.LINUX_SLL2,
  DLT.PFLOG, DLT.IEEE802_11, DLT.PRISM_HEADER, DLT.IEEE802_11_RADIO, DLT.IEEE802_11_RADIO_AVS, DLT.PPI,
  DLT.SLIP, DLT.PPP, DLT.PPP_SERIAL, DLT.C_HDLC, DLT.FRELAY, DLT.PPP_ETHER, DLT.PPP_BSDOS]);

/** Every link type moat bpf compiles for, in DLT order (for help texts and tests). */
export const SUPPORTED_LINKTYPES: readonly number[] = [...SUPPORTED].sort((a, b) => a - b);

export function isSupportedLinktype(dlt: number): boolean {
  return SUPPORTED.has(dlt);
}

export function unsupportedMessage(dlt: number): string {
  return `link-layer type ${linktypeName(dlt)} (${linktypeDescription(dlt)}) is not supported by moat bpf`;
}

/**
 * The link type is one moat bpf does not compile for. Not a syntax error:
 * nothing in the expression is wrong, so there is no caret under it.
 */
export class UnsupportedLinktypeError extends MoatError {
  readonly linktype: number;

  constructor(dlt: number) {
    super('MOAT_BPF_LINKTYPE', unsupportedMessage(dlt));
    this.name = 'UnsupportedLinktypeError';
    this.linktype = dlt;
  }
}

/**
 * Offsets for checking an expression on a link type we cannot compile for:
 * no type field, payload at 0. Code generated with them is never returned;
 * it only lets the expression's own errors (libpcap's messages) surface
 * before we refuse the link type.
 */
export function checkOnlyOffsets(): LinkOffsets {
  return { linkhdr: off(0), linktype: off(OFFSET_NOT_SET), linkpl: off(0), nl: 0, nlNosnap: 0 };
}
