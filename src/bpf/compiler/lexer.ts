// The pcap-filter(7) tokenizer, following libpcap's scanner.l: keywords,
// numbers (decimal, 0x hex, leading-0 octal), dotted IPv4 prefixes (HID),
// IPv6 addresses (HID6), MAC addresses (EID), names (ID) and operators.
// Longest match wins and, on a tie, the earlier rule (keywords before ID),
// as flex does.
import { syntaxError } from './errors.js';
import { hexValue, parseIPv6 } from './ipv6-text.js';
import { ownTable } from './own-table.js';
import { WordTable } from './word-table.js';

export type TokKind = 'ID' | 'HID' | 'HID6' | 'EID' | 'AID' | 'NUM' | 'KW' | 'OP' | 'EOF';

export interface Token {
  kind: TokKind;
  /** Keyword name (canonical), operator text, or the literal text. */
  text: string;
  /** NUM value. */
  value: number;
  start: number;
  end: number;
}

/** Keyword spellings → canonical token name (scanner.l). */
const KEYWORDS: Record<string, string> = ownTable({
  dst: 'DST', src: 'SRC',
  link: 'LINK', ether: 'LINK', ppp: 'LINK', slip: 'LINK', fddi: 'LINK', tr: 'LINK', wlan: 'LINK',
  arp: 'ARP', rarp: 'RARP', ip: 'IP', sctp: 'SCTP', tcp: 'TCP', udp: 'UDP', icmp: 'ICMP', igmp: 'IGMP',
  igrp: 'IGRP', pim: 'PIM', vrrp: 'VRRP', carp: 'CARP', radio: 'RADIO',
  ip6: 'IPV6', icmp6: 'ICMPV6', ah: 'AH', esp: 'ESP',
  atalk: 'ATALK', aarp: 'AARP', decnet: 'DECNET', lat: 'LAT', sca: 'SCA', moprc: 'MOPRC', mopdl: 'MOPDL',
  iso: 'ISO', esis: 'ESIS', 'es-is': 'ESIS', isis: 'ISIS', 'is-is': 'ISIS',
  l1: 'L1', l2: 'L2', iih: 'IIH', lsp: 'LSP', snp: 'SNP', csnp: 'CSNP', psnp: 'PSNP',
  clnp: 'CLNP', stp: 'STP', ipx: 'IPX', netbeui: 'NETBEUI',
  host: 'HOST', net: 'NET', mask: 'NETMASK', port: 'PORT', portrange: 'PORTRANGE', proto: 'PROTO',
  protochain: 'PROTOCHAIN', gateway: 'GATEWAY',
  type: 'TYPE', subtype: 'SUBTYPE', direction: 'DIR', dir: 'DIR',
  address1: 'ADDR1', addr1: 'ADDR1', address2: 'ADDR2', addr2: 'ADDR2',
  address3: 'ADDR3', addr3: 'ADDR3', address4: 'ADDR4', addr4: 'ADDR4', ra: 'RA', ta: 'TA',
  less: 'LESS', greater: 'GREATER', byte: 'CBYTE', broadcast: 'TK_BROADCAST', multicast: 'TK_MULTICAST',
  and: 'AND', or: 'OR', not: '!',
  len: 'LEN', length: 'LEN', inbound: 'INBOUND', outbound: 'OUTBOUND', ifindex: 'IFINDEX',
  vlan: 'VLAN', mpls: 'MPLS', pppoed: 'PPPOED', pppoes: 'PPPOES', geneve: 'GENEVE', vxlan: 'VXLAN',
  lane: 'LANE', llc: 'LLC', metac: 'METAC', bcc: 'BCC', oam: 'OAM', oamf4: 'OAMF4', oamf4ec: 'OAMF4EC',
  oamf4sc: 'OAMF4SC', sc: 'SC', ilmic: 'ILMIC', vpi: 'VPI', vci: 'VCI', connectmsg: 'CONNECTMSG',
  metaconnect: 'METACONNECT',
  on: 'PF_IFNAME', ifname: 'PF_IFNAME', rset: 'PF_RSET', ruleset: 'PF_RSET', rnr: 'PF_RNR', rulenum: 'PF_RNR',
  srnr: 'PF_SRNR', subrulenum: 'PF_SRNR', reason: 'PF_REASON', action: 'PF_ACTION',
  fisu: 'FISU', lssu: 'LSSU', lsu: 'LSSU', msu: 'MSU', hfisu: 'HFISU', hlssu: 'HLSSU', hmsu: 'HMSU',
  sio: 'SIO', opc: 'OPC', dpc: 'DPC', sls: 'SLS', hsio: 'HSIO', hopc: 'HOPC', hdpc: 'HDPC', hsls: 'HSLS',
});

/** Named constants that scan as numbers (scanner.l; pcap-filter(7)). */
export const NAMED_NUMBERS: Record<string, number> = ownTable({
  icmptype: 0, icmpcode: 1,
  'icmp-echoreply': 0, 'icmp-unreach': 3, 'icmp-sourcequench': 4, 'icmp-redirect': 5, 'icmp-echo': 8,
  'icmp-routeradvert': 9, 'icmp-routersolicit': 10, 'icmp-timxceed': 11, 'icmp-paramprob': 12,
  'icmp-tstamp': 13, 'icmp-tstampreply': 14, 'icmp-ireq': 15, 'icmp-ireqreply': 16, 'icmp-maskreq': 17,
  'icmp-maskreply': 18,
  icmp6type: 0, icmp6code: 1,
  'icmp6-destinationunreach': 1, 'icmp6-packettoobig': 2, 'icmp6-timeexceeded': 3,
  'icmp6-parameterproblem': 4, 'icmp6-echo': 128, 'icmp6-echoreply': 129,
  'icmp6-multicastlistenerquery': 130, 'icmp6-multicastlistenerreportv1': 131,
  'icmp6-multicastlistenerdone': 132, 'icmp6-routersolicit': 133, 'icmp6-routeradvert': 134,
  'icmp6-neighborsolicit': 135, 'icmp6-neighboradvert': 136, 'icmp6-redirect': 137,
  'icmp6-routerrenum': 138, 'icmp6-nodeinformationquery': 139, 'icmp6-nodeinformationresponse': 140,
  'icmp6-ineighbordiscoverysolicit': 141, 'icmp6-ineighbordiscoveryadvert': 142,
  'icmp6-multicastlistenerreportv2': 143, 'icmp6-homeagentdiscoveryrequest': 144,
  'icmp6-homeagentdiscoveryreply': 145, 'icmp6-mobileprefixsolicit': 146, 'icmp6-mobileprefixadvert': 147,
  'icmp6-certpathsolicit': 148, 'icmp6-certpathadvert': 149, 'icmp6-multicastrouteradvert': 151,
  'icmp6-multicastroutersolicit': 152, 'icmp6-multicastrouterterm': 153,
  tcpflags: 13, 'tcp-fin': 0x01, 'tcp-syn': 0x02, 'tcp-rst': 0x04, 'tcp-push': 0x08, 'tcp-ack': 0x10,
  'tcp-urg': 0x20, 'tcp-ece': 0x40, 'tcp-cwr': 0x80,
});

/** KEYWORDS and NAMED_NUMBERS (no spelling is in both), for the lookup per word. */
const WORDS = new WordTable([
  ...Object.entries(KEYWORDS).map(([spelling, text]) => ({ spelling, kind: 'KW' as const, text, value: 0 })),
  ...Object.entries(NAMED_NUMBERS).map(([spelling, value]) => ({ spelling, kind: 'NUM' as const, text: spelling, value })),
]);

const RE_EID = /(?:[0-9A-Fa-f]{1,2}(?::[0-9A-Fa-f]{1,2}){5}|[0-9A-Fa-f]{1,2}(?:-[0-9A-Fa-f]{1,2}){5}|[0-9A-Fa-f]{1,2}(?:\.[0-9A-Fa-f]{1,2}){5}|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}|[0-9A-Fa-f]{12}|[0-9A-Fa-f]{4}(?::[0-9A-Fa-f]{4}){2})/y;
const RE_AID = /\$[0-9A-Fa-f]{1,2}/y;
const RE_ESC = /\\[^ !()\n\t]+/y;

function match(re: RegExp, s: string, at: number): string {
  re.lastIndex = at;
  const m = re.exec(s);
  return m === null ? '' : m[0];
}


/** libpcap's stoulen(): decimal, 0x hex or leading-0 octal, 32 bits, digit by digit. */
function parseNumber(text: string, src: string, at: number): number {
  let base = 10;
  let from = 0;
  let kind = 'decimal';
  if (text.length > 1 && text.charCodeAt(0) === 0x30 && (text.charCodeAt(1) | 0x20) === 0x78) {
    base = 16;
    from = 2;
    kind = 'hexadecimal';
  } else if (text.length > 1 && text.charCodeAt(0) === 0x30) {
    base = 8;
    from = 1;
    kind = 'octal';
  }
  let v = 0;
  for (let i = from; i < text.length; i++) {
    const d = hexValue(text.charCodeAt(i));
    if (d >= base) throw syntaxError(`number ${text} contains non-octal digit`, src, at, text.length);
    v = v * base + d;
    if (v > 0xffffffff) throw syntaxError(`${kind} number ${text} overflows 32 bits`, src, at, text.length);
  }
  return v;
}

/** The two-character operators `>= <= != == << >> && ||`, by their two characters. */
function op2(c: string, d: string | undefined): string | undefined {
  switch (c) {
    case '>': return d === '=' ? 'GEQ' : d === '>' ? 'RSH' : undefined;
    case '<': return d === '=' ? 'LEQ' : d === '<' ? 'LSH' : undefined;
    case '!': return d === '=' ? 'NEQ' : undefined;
    case '=': return d === '=' ? '=' : undefined;
    case '&': return d === '&' ? 'AND' : undefined;
    case '|': return d === '|' ? 'OR' : undefined;
    default: return undefined;
  }
}

// Character classes by code (ASCII; anything else is in none), as bits.
const DIGIT = 1;
const HEX = 2;
const ALNUM = 4;
const CLASS = new Uint8Array(128);
for (let c = 0x30; c <= 0x39; c++) CLASS[c] = DIGIT | HEX | ALNUM;
for (let c = 0x41; c <= 0x5a; c++) CLASS[c] = ALNUM | (c <= 0x46 ? HEX : 0);
for (let c = 0x61; c <= 0x7a; c++) CLASS[c] = ALNUM | (c <= 0x66 ? HEX : 0);
/**
 * Is the character at `i` of `src` in class `cls` (false past the end)? The
 * code is range-checked first: CLASS[NaN] (past the end) would be a named
 * property lookup, far slower than an element load.
 */
function isAt(src: string, i: number, cls: number): boolean {
  const c = src.charCodeAt(i);
  return c < 128 && ((CLASS[c] ?? 0) & cls) !== 0;
}

const DOT = 0x2e;
const COLON = 0x3a;

// Hand-written scanners for the simple patterns, each the very match of its
// regular expression at `at` (sticky), without a match object per token.
// Each returns where its match ends (`at`: none), so that only the longest,
// the one taken, becomes a string.

/** `[A-Za-z0-9](?:[-_.A-Za-z0-9]*[.A-Za-z0-9])?`: an alphanumeric, then a run of those and `-_.`, ending on an alphanumeric or a dot. */
function scanId(src: string, at: number): number {
  if (!isAt(src, at, ALNUM)) return at;
  let end = at + 1;
  for (let i = at + 1; i < src.length; i++) {
    const c = src.charCodeAt(i);
    if ((c < 128 && ((CLASS[c] ?? 0) & ALNUM) !== 0) || c === DOT) end = i + 1;
    else if (c !== 0x2d && c !== 0x5f) break;
  }
  return end;
}

function digitsFrom(src: string, at: number): number {
  let i = at;
  while (isAt(src, i, DIGIT)) i++;
  return i;
}

/** `0[Xx][0-9A-Fa-f]+|[0-9]+`: 0x and hex digits, or decimal digits. */
function scanNum(src: string, at: number): number {
  if (src.charCodeAt(at) === 0x30 && (src.charCodeAt(at + 1) | 0x20) === 0x78 && isAt(src, at + 2, HEX)) {
    let i = at + 2;
    while (isAt(src, i, HEX)) i++;
    return i;
  }
  return digitsFrom(src, at);
}

/** `[0-9]+(?:\.[0-9]+){1,3}`: digits, then one to three groups of a dot and digits. */
function scanHid(src: string, at: number): number {
  let i = digitsFrom(src, at);
  if (i === at) return at;
  let groups = 0;
  while (groups < 3 && src.charCodeAt(i) === DOT && isAt(src, i + 1, DIGIT)) {
    i = digitsFrom(src, i + 1);
    groups++;
  }
  return groups === 0 ? at : i;
}

/** `[0-9A-Fa-f:][0-9A-Fa-f:.]*`: the shape of an IPv6 address (checked by the caller). */
function scanV6(src: string, at: number): number {
  const c0 = src.charCodeAt(at);
  if (!isAt(src, at, HEX) && c0 !== COLON) return at;
  let i = at + 1;
  for (; i < src.length; i++) {
    const c = src.charCodeAt(i);
    if (!(c < 128 && ((CLASS[c] ?? 0) & HEX) !== 0) && c !== COLON && c !== DOT) break;
  }
  return i;
}

/**
 * Can RE_EID match at `at`? Its forms start with one or two hex digits and a
 * separator, four and a separator, or twelve hex digits, and each is at
 * least 11 characters of hex digits and separators (`1:2:3:4:5:6`): a
 * shorter run (`10.0.0.1`, `1-1023`) is none, and the regular expression,
 * which costs more than the rest of the token, is not tried on it.
 */
function eidPossible(src: string, at: number): boolean {
  let h = 0;
  while (h < 12 && isAt(src, at + h, HEX)) h++;
  if (h >= 12) return true;
  const sep = src.charCodeAt(at + h);
  return (h === 1 || h === 2 || h === 4) && (sep === COLON || sep === 0x2d || sep === DOT) && eidLongEnough(src, at, h + 1);
}

/** Are the `known` characters at `at` followed by enough hex digits and separators to make 11? */
function eidLongEnough(src: string, at: number, known: number): boolean {
  let end = at + known;
  for (; end - at < 11; end++) {
    const c = src.charCodeAt(end);
    if (!(c < 128 && ((CLASS[c] ?? 0) & HEX) !== 0) && c !== COLON && c !== 0x2d && c !== DOT) break;
  }
  return end - at >= 11;
}

/** Could a token go on with this character (an alphanumeric, `.`, `:`, `-` or `_`; NaN past the end cannot)? */
function extendsToken(c: number): boolean {
  return (c < 128 && ((CLASS[c] ?? 0) & ALNUM) !== 0) || c === DOT || c === COLON || c === 0x2d || c === 0x5f;
}

/** Is there a letter past `f` (an alphanumeric that is not a hex digit) in src[from, to)? */
function notHex(src: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = src.charCodeAt(i);
    if (c < 128 && ((CLASS[c] ?? 0) & (ALNUM | HEX)) === ALNUM) return true;
  }
  return false;
}

/** The colons in src[from, to). */
function colons(src: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) if (src.charCodeAt(i) === COLON) n++;
  return n;
}

/** Single-character operators, by code. */
const OP1 = new Uint8Array(128);
for (const c of '+-*/%:[]!<>()&|^=') OP1[c.charCodeAt(0)] = 1;

export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = src.length;
  while (i < n) {
    const code = src.charCodeAt(i);
    if (code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d) {
      i++;
      continue;
    }
    const c = src[i] ?? '';
    if (code < 128 && OP1[code] === 1) {
      const o2 = op2(c, src[i + 1]);
      if (o2 !== undefined) {
        out.push({ kind: o2 === 'AND' || o2 === 'OR' ? 'KW' : 'OP', text: o2, value: 0, start: i, end: i + 2 });
        i += 2;
        continue;
      }
      if (!(code === COLON && src.charCodeAt(i + 1) === COLON && parseIPv6(src.slice(i, scanV6(src, i))) !== null)) {
        out.push({ kind: c === '!' ? 'KW' : 'OP', text: c, value: 0, start: i, end: i + 1 });
        i++;
        continue;
      }
    }
    if (c === '$') {
      const a = match(RE_AID, src, i);
      if (a !== '') {
        out.push({ kind: 'AID', text: a, value: 0, start: i, end: i + a.length });
        i += a.length;
        continue;
      }
    }
    if (c === '\\') {
      const e = match(RE_ESC, src, i);
      if (e !== '') {
        out.push({ kind: 'ID', text: e.slice(1), value: 0, start: i, end: i + e.length });
        i += e.length;
        continue;
      }
    }
    const hex = code < 128 && ((CLASS[code] ?? 0) & HEX) !== 0;
    // Neither a digit, a hex letter nor a colon: of all the patterns only an
    // id can start here (most keywords do), so no other is scanned. Nor
    // where a hex letter starts an id with a letter past `f` in it (`and`,
    // `dst`, `ether`): a MAC or IPv6 address from here would stop at that
    // letter, and no id has a colon to go on past the id's end.
    const idEnd = code === COLON || (hex && code <= 0x39) ? i : scanId(src, i);
    if (!hex ? code !== COLON : idEnd > i && notHex(src, i, idEnd)) {
      const end = idEnd;
      if (end === i) throw syntaxError("can't parse filter expression: syntax error", src, i, 1);
      const w = WORDS.find(src, i, end);
      out.push(w !== null ? { kind: w.kind, text: w.text, value: w.value, start: i, end } : { kind: 'ID', text: src.slice(i, end), value: 0, start: i, end });
      i = end;
      continue;
    }
    if (code >= 0x30 && code <= 0x39) {
      // Digits, or a dotted prefix (`10.0.0.1`), followed by nothing an id,
      // number, dotted prefix, MAC or IPv6 address could go on with (most
      // numbers and addresses: `port 80`, `[12]`, `host 10.0.0.1`): every
      // candidate below would end here too, and the number or the prefix
      // wins the tie. Fewer than 12 digits make no MAC address (twelve hex
      // digits); a MAC address with dots as long as the prefix loses to it.
      const digits = digitsFrom(src, i);
      const after = src.charCodeAt(digits);
      // A 0x number (`0xf0`, `& 0x1fff`) followed by nothing that extends a
      // token: an id as long loses the tie to it, and no MAC, IPv6 or dotted
      // shape has an `x` in it.
      if (code === 0x30 && (after | 0x20) === 0x78 && isAt(src, digits + 1, HEX)) {
        const hexEnd = scanNum(src, i);
        if (!extendsToken(src.charCodeAt(hexEnd))) {
          const text = src.slice(i, hexEnd);
          out.push({ kind: 'NUM', text, value: parseNumber(text, src, i), start: i, end: hexEnd });
          i = hexEnd;
          continue;
        }
      }
      // Digits and a colon that starts no IPv6 or MAC address (`ip[6:2]`):
      // both need two colons or more in the run of hex digits, colons and
      // dots from here (a MAC address that starts with digits and a colon
      // has colons for all its separators); an id stops at the colon as the
      // number does, and the number wins the tie.
      if (after === COLON && digits > i) {
        if (colons(src, i, scanV6(src, i)) < 2) {
          const text = src.slice(i, digits);
          out.push({ kind: 'NUM', text, value: parseNumber(text, src, i), start: i, end: digits });
          i = digits;
          continue;
        }
      }
      const end = after === DOT ? scanHid(src, i) : digits;
      if (end > i && (end > digits || end - i < 12) && !extendsToken(src.charCodeAt(end))) {
        const text = src.slice(i, end);
        if (end === digits) out.push({ kind: 'NUM', text, value: parseNumber(text, src, i), start: i, end });
        else out.push({ kind: 'HID', text, value: 0, start: i, end });
        i = end;
        continue;
      }
    }
    // Candidates, longest first; ties resolved in scanner.l's rule order.
    // (A pattern whose first character class excludes c cannot match: not tried.)
    const idLen = scanId(src, i) - i;
    const digit = isAt(src, i, DIGIT);
    const numLen = digit ? scanNum(src, i) - i : 0;
    const hidLen = digit ? scanHid(src, i) - i : 0;
    const eid = eidPossible(src, i) ? match(RE_EID, src, i) : '';
    // Like scanner.l, take anything shaped like an IPv6 address (two or
    // more colons) as one; gen_mcode6 then reports it if it is not valid.
    const v6End = scanV6(src, i);
    let v6Len = v6End - i;
    // A number, dotted prefix or MAC address at least as long wins over an
    // IPv6 shape on a tie (rule order): no need to parse it (a MAC address
    // with colons would otherwise be parsed as IPv6 on every compile).
    if (v6Len > 0 && v6Len <= Math.max(numLen, hidLen, eid.length)) v6Len = 0;
    if (v6Len > 0) {
      const nc = colons(src, i, v6End);
      if (nc < 2) v6Len = 0;
      else {
        const v6 = src.slice(i, v6End);
        if (!v6.includes('::') && nc < 7 && parseIPv6(v6) === null) v6Len = 0;
      }
    }
    const best = Math.max(idLen, numLen, hidLen, eid.length, v6Len);
    if (best === 0) throw syntaxError("can't parse filter expression: syntax error", src, i, 1);
    const end = i + best;
    const text = src.slice(i, end);
    // No keyword or named number starts with a digit: those are not looked up.
    const w = idLen === best && !digit ? WORDS.find(src, i, end) : null;
    if (w !== null) {
      out.push({ kind: w.kind, text: w.text, value: w.value, start: i, end });
    } else if (numLen === best) {
      out.push({ kind: 'NUM', text, value: parseNumber(text, src, i), start: i, end });
    } else if (hidLen === best) {
      out.push({ kind: 'HID', text, value: 0, start: i, end });
    } else if (eid.length === best) {
      out.push({ kind: 'EID', text, value: 0, start: i, end });
    } else if (v6Len === best) {
      out.push({ kind: 'HID6', text, value: 0, start: i, end });
    } else {
      out.push({ kind: 'ID', text, value: 0, start: i, end });
    }
    i = end;
  }
  out.push({ kind: 'EOF', text: '', value: 0, start: n, end: n });
  return out;
}
