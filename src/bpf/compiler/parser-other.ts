// The `other` productions of grammar.y: keywords with their own operands
// (less/greater, byte, vlan/mpls/pppoes/geneve, the pflog fields, 802.11
// type/subtype/dir, llc, and the ATM/SS7 fields we only recognise).
import type { Node, Proto } from './ast.js';
import { BARE, NEEDS_NUM, OPTIONAL_NUM, RELOPS } from './grammar-tables.js';
import type { TokenStream } from './token-stream.js';
import { WLAN_SUBTYPE_MASK, WLAN_TYPE_MASK, wlanDir, wlanSubtypeOf, wlanType, wlanTypeSubtype, type Resolved } from './wlan-names.js';

/** `other` and the link-specific keyword forms. */
export function parseOther(p: TokenStream, proto: Proto, start: number): Node {
  const t = p.next();
  const mk = (what: string, num = 0, num2 = 0, has = false, text = ''): Node =>
    ({ t: 'other', what, proto, num, num2, has, text, span: p.span(start) });
  if (t.kind !== 'KW') p.error(t);
  if (t.text === 'TK_BROADCAST') return mk('broadcast');
  if (t.text === 'TK_MULTICAST') return mk('multicast');
  if (proto !== 'default' && !['TYPE', 'SUBTYPE', 'DIR'].includes(t.text)) p.error(t);
  if (NEEDS_NUM.has(t.text)) {
    const n = p.peek();
    if (n.kind !== 'NUM') p.error();
    p.next();
    return mk(t.text.toLowerCase(), n.value);
  }
  if (OPTIONAL_NUM.has(t.text)) {
    const v = p.pnum();
    return mk(t.text.toLowerCase(), v ?? 0, 0, v !== null);
  }
  if (BARE.has(t.text)) return mk(t.text.toLowerCase());
  switch (t.text) {
    case 'CBYTE': {
      const a = p.peek();
      if (a.kind !== 'NUM') p.error();
      p.next();
      const o = p.next();
      if (!(o.kind === 'OP' && ['&', '|', '<', '>', '='].includes(o.text))) p.error(o);
      const b = p.peek();
      if (b.kind !== 'NUM') p.error();
      p.next();
      return mk('byte', a.value, b.value, false, o.text);
    }
    case 'PF_IFNAME':
    case 'PF_RSET':
    case 'PF_ACTION': {
      const n = p.peek();
      if (n.kind !== 'ID') p.error();
      p.next();
      return mk(t.text.toLowerCase(), 0, 0, false, n.text);
    }
    case 'PF_REASON': {
      const n = p.peek();
      if (n.kind === 'NUM') {
        p.next();
        return mk('pf_reason', n.value, 0, true);
      }
      if (n.kind !== 'ID') p.error();
      p.next();
      return mk('pf_reason', 0, 0, false, n.text);
    }
    case 'TYPE':
    case 'SUBTYPE':
    case 'DIR': {
      // grammar.y resolves the names in its actions; a failing one becomes a
      // node carrying libpcap's message, reported when it is compiled.
      const n = p.peek();
      if (n.kind !== 'NUM' && n.kind !== 'ID') p.error();
      if (t.text === 'SUBTYPE' && n.kind !== 'ID') p.error();
      p.next();
      const num = n.kind === 'NUM' ? n.value : null;
      let r: Resolved;
      let mask = WLAN_TYPE_MASK | WLAN_SUBTYPE_MASK;
      if (t.text === 'DIR') {
        r = wlanDir(num, n.text);
        mask = 0;
      } else if (t.text === 'SUBTYPE') {
        r = wlanTypeSubtype(n.text);
      } else {
        r = wlanType(num, n.text);
        mask = WLAN_TYPE_MASK;
        if (p.is('SUBTYPE')) {
          p.next();
          const s = p.peek();
          if (s.kind !== 'NUM' && s.kind !== 'ID') p.error();
          p.next();
          mask = WLAN_TYPE_MASK | WLAN_SUBTYPE_MASK;
          if ('value' in r) {
            const type = r.value;
            const sub = wlanSubtypeOf(type, s.kind === 'NUM' ? s.value : null, s.text);
            r = 'value' in sub ? { value: type | sub.value } : sub;
          }
        }
      }
      if ('error' in r) return mk('p80211_error', 0, 0, false, r.error);
      return mk(t.text.toLowerCase(), r.value, mask);
    }
    case 'LLC': {
      const n = p.peek();
      if (n.kind === 'ID' || p.is('PF_RNR')) {
        p.next();
        return mk('llc', 0, 0, true, n.kind === 'ID' ? n.text : 'rnr');
      }
      return mk('llc');
    }
    case 'VPI':
    case 'VCI':
    case 'SIO':
    case 'OPC':
    case 'DPC':
    case 'SLS':
    case 'HSIO':
    case 'HOPC':
    case 'HDPC':
    case 'HSLS': {
      // atmfield/mtp3field value: NUM, relop NUM, or a parenthesised list.
      const r = p.peek();
      let op = '=';
      if (r.kind === 'OP' && RELOPS[r.text] !== undefined) {
        op = r.text;
        p.next();
      } else if (p.is('(')) {
        p.next();
        const first = p.peek();
        if (first.kind !== 'NUM') p.error();
        p.next();
        while (p.is('OR')) {
          p.next();
          if (p.peek().kind !== 'NUM') p.error();
          p.next();
        }
        p.expect(')');
        return mk(t.text.toLowerCase(), first.value, 0, false, '=');
      }
      const n = p.peek();
      if (n.kind !== 'NUM') p.error();
      p.next();
      return mk(t.text.toLowerCase(), n.value, 0, false, op);
    }
    default:
      return p.error(t);
  }
}
