// moat's own RADIUS dictionary: the attributes a captive portal sends and
// honours, with their numbers and data types. Numbers from RFC 2865, 2866,
// 2869, 3162, 4372, 5176, 6911, and the WISPr (14122) and ChilliSpot (14559)
// vendor tables as CoovaChilli and FreeRADIUS number them.

/**
 * RFC 8044 data types, as far as we use them. `text` is UTF-8, `string` raw
 * octets, `integer`/`time` 32-bit unsigned, `ipv4addr` 4 octets, `ipv6addr`
 * 16, `ipv6prefix` RFC 3162 §2.3, `ifid` 8 octets.
 */
export type AttributeType = 'text' | 'string' | 'integer' | 'time' | 'ipv4addr' | 'ipv6addr' | 'ipv6prefix' | 'ifid';

export interface AttributeDef {
  name: string;
  /** The attribute's number (for a vendor attribute, its vendor type). */
  type: number;
  /** Vendor-Id (SMI network management private enterprise code), for Vendor-Specific sub-attributes. */
  vendor?: number;
  dataType: AttributeType;
  /** Named values of an enumerated integer. */
  values?: Readonly<Record<string, number>>;
}

export const VENDOR_WISPR = 14122;
export const VENDOR_CHILLISPOT = 14559;
/** RFC 2865 §5.26 */
export const VENDOR_SPECIFIC = 26;
/** RFC 2869 §5.14 */
export const MESSAGE_AUTHENTICATOR = 80;
/** RFC 2865 §5.33: echoed unchanged and in order in every reply. */
export const PROXY_STATE = 33;

/** RFC 2865 §3, RFC 2866 §3, RFC 5176 §2.3 packet codes. */
export const CODE = {
  accessRequest: 1,
  accessAccept: 2,
  accessReject: 3,
  accountingRequest: 4,
  accountingResponse: 5,
  accessChallenge: 11,
  statusServer: 12,
  statusClient: 13,
  disconnectRequest: 40,
  disconnectAck: 41,
  disconnectNak: 42,
  coaRequest: 43,
  coaAck: 44,
  coaNak: 45,
} as const;

const CODE_NAMES: ReadonlyMap<number, string> = new Map([
  [1, 'Access-Request'], [2, 'Access-Accept'], [3, 'Access-Reject'], [4, 'Accounting-Request'], [5, 'Accounting-Response'],
  [11, 'Access-Challenge'], [12, 'Status-Server'], [13, 'Status-Client'], [40, 'Disconnect-Request'], [41, 'Disconnect-ACK'],
  [42, 'Disconnect-NAK'], [43, 'CoA-Request'], [44, 'CoA-ACK'], [45, 'CoA-NAK'],
]);

/** "Access-Accept" for 2; "code 99" for a code we do not know. */
export function codeName(code: number): string {
  return CODE_NAMES.get(code) ?? `code ${String(code)}`;
}

/** RFC 2866 §5.1 */
export const ACCT_STATUS_TYPE = { start: 1, stop: 2, interim: 3, on: 7, off: 8 } as const;

/** RFC 2866 §5.10 Acct-Terminate-Cause. */
export const TERMINATE_CAUSE = {
  'User-Request': 1,
  'Lost-Carrier': 2,
  'Lost-Service': 3,
  'Idle-Timeout': 4,
  'Session-Timeout': 5,
  'Admin-Reset': 6,
  'Admin-Reboot': 7,
  'Port-Error': 8,
  'NAS-Error': 9,
  'NAS-Request': 10,
  'NAS-Reboot': 11,
  'Port-Unneeded': 12,
  'Port-Preempted': 13,
  'Port-Suspended': 14,
  'Service-Unavailable': 15,
  Callback: 16,
  'User-Error': 17,
  'Host-Request': 18,
} as const;

/** RFC 5176 §3.5 Error-Cause. */
export const ERROR_CAUSE = {
  'Residual-Session-Context-Removed': 201,
  'Invalid-EAP-Packet': 202,
  'Unsupported-Attribute': 401,
  'Missing-Attribute': 402,
  'NAS-Identification-Mismatch': 403,
  'Invalid-Request': 404,
  'Unsupported-Service': 405,
  'Unsupported-Extension': 406,
  'Invalid-Attribute-Value': 407,
  'Administratively-Prohibited': 501,
  'Request-Not-Routable': 502,
  'Session-Context-Not-Found': 503,
  'Session-Context-Not-Removable': 504,
  'Other-Proxy-Processing-Error': 505,
  'Resources-Unavailable': 506,
  'Request-Initiated': 507,
  'Multiple-Session-Selection-Unsupported': 508,
} as const;

/** RFC 2865 §5.6 */
export const SERVICE_TYPE = { 'Login-User': 1, 'Framed-User': 2, 'Authenticate-Only': 8, 'Call-Check': 10, 'Authorize-Only': 17 } as const;
/** RFC 2865 §5.41, RFC 2869 §5.? (Wireless-802.11 is 19). */
export const NAS_PORT_TYPE = { Virtual: 5, Ethernet: 15, 'Wireless-Other': 18, 'Wireless-802.11': 19 } as const;

const d = (name: string, type: number, dataType: AttributeType, values?: Readonly<Record<string, number>>): AttributeDef =>
  values === undefined ? { name, type, dataType } : { name, type, dataType, values };
const v = (vendor: number, name: string, type: number, dataType: AttributeType): AttributeDef => ({ name, type, vendor, dataType });

export const ATTRIBUTES: readonly AttributeDef[] = [
  // RFC 2865
  d('User-Name', 1, 'text'),
  d('User-Password', 2, 'string'),
  d('CHAP-Password', 3, 'string'),
  d('NAS-IP-Address', 4, 'ipv4addr'),
  d('NAS-Port', 5, 'integer'),
  d('Service-Type', 6, 'integer', SERVICE_TYPE),
  d('Framed-Protocol', 7, 'integer'),
  d('Framed-IP-Address', 8, 'ipv4addr'),
  d('Framed-IP-Netmask', 9, 'ipv4addr'),
  d('Filter-Id', 11, 'text'),
  d('Framed-MTU', 12, 'integer'),
  d('Reply-Message', 18, 'text'),
  d('State', 24, 'string'),
  d('Class', 25, 'string'),
  d('Vendor-Specific', 26, 'string'),
  d('Session-Timeout', 27, 'integer'),
  d('Idle-Timeout', 28, 'integer'),
  d('Termination-Action', 29, 'integer'),
  d('Called-Station-Id', 30, 'text'),
  d('Calling-Station-Id', 31, 'text'),
  d('NAS-Identifier', 32, 'text'),
  d('Proxy-State', 33, 'string'),
  d('CHAP-Challenge', 60, 'string'),
  d('NAS-Port-Type', 61, 'integer', NAS_PORT_TYPE),
  d('Port-Limit', 62, 'integer'),
  // RFC 2866
  d('Acct-Status-Type', 40, 'integer', { Start: 1, Stop: 2, 'Interim-Update': 3, 'Accounting-On': 7, 'Accounting-Off': 8 }),
  d('Acct-Delay-Time', 41, 'integer'),
  d('Acct-Input-Octets', 42, 'integer'),
  d('Acct-Output-Octets', 43, 'integer'),
  d('Acct-Session-Id', 44, 'text'),
  d('Acct-Authentic', 45, 'integer', { RADIUS: 1, Local: 2, Remote: 3 }),
  d('Acct-Session-Time', 46, 'integer'),
  d('Acct-Input-Packets', 47, 'integer'),
  d('Acct-Output-Packets', 48, 'integer'),
  d('Acct-Terminate-Cause', 49, 'integer', TERMINATE_CAUSE),
  d('Acct-Multi-Session-Id', 50, 'text'),
  d('Acct-Link-Count', 51, 'integer'),
  // RFC 2869
  d('Acct-Input-Gigawords', 52, 'integer'),
  d('Acct-Output-Gigawords', 53, 'integer'),
  d('Event-Timestamp', 55, 'time'),
  d('Connect-Info', 77, 'text'),
  d('EAP-Message', 79, 'string'),
  d('Message-Authenticator', MESSAGE_AUTHENTICATOR, 'string'),
  d('Acct-Interim-Interval', 85, 'integer'),
  d('NAS-Port-Id', 87, 'text'),
  // RFC 4372
  d('Chargeable-User-Identity', 89, 'string'),
  // RFC 3162
  d('NAS-IPv6-Address', 95, 'ipv6addr'),
  d('Framed-Interface-Id', 96, 'ifid'),
  d('Framed-IPv6-Prefix', 97, 'ipv6prefix'),
  // RFC 5176
  d('Error-Cause', 101, 'integer', ERROR_CAUSE),
  // RFC 6911
  d('Framed-IPv6-Address', 168, 'ipv6addr'),
  // WISPr (Wi-Fi Alliance WISPr 1.0 appendix D); bandwidths in bit/s
  v(VENDOR_WISPR, 'WISPr-Location-ID', 1, 'text'),
  v(VENDOR_WISPR, 'WISPr-Location-Name', 2, 'text'),
  v(VENDOR_WISPR, 'WISPr-Logoff-URL', 3, 'text'),
  v(VENDOR_WISPR, 'WISPr-Redirection-URL', 4, 'text'),
  v(VENDOR_WISPR, 'WISPr-Bandwidth-Min-Up', 5, 'integer'),
  v(VENDOR_WISPR, 'WISPr-Bandwidth-Min-Down', 6, 'integer'),
  v(VENDOR_WISPR, 'WISPr-Bandwidth-Max-Up', 7, 'integer'),
  v(VENDOR_WISPR, 'WISPr-Bandwidth-Max-Down', 8, 'integer'),
  v(VENDOR_WISPR, 'WISPr-Session-Terminate-Time', 9, 'text'),
  v(VENDOR_WISPR, 'WISPr-Session-Terminate-End-Of-Day', 10, 'text'),
  v(VENDOR_WISPR, 'WISPr-Billing-Class-Of-Service', 11, 'text'),
  // ChilliSpot / CoovaChilli; octet limits with gigawords, bandwidths in kbit/s
  v(VENDOR_CHILLISPOT, 'ChilliSpot-Max-Input-Octets', 1, 'integer'),
  v(VENDOR_CHILLISPOT, 'ChilliSpot-Max-Output-Octets', 2, 'integer'),
  v(VENDOR_CHILLISPOT, 'ChilliSpot-Max-Total-Octets', 3, 'integer'),
  v(VENDOR_CHILLISPOT, 'ChilliSpot-Bandwidth-Max-Up', 4, 'integer'),
  v(VENDOR_CHILLISPOT, 'ChilliSpot-Bandwidth-Max-Down', 5, 'integer'),
  v(VENDOR_CHILLISPOT, 'ChilliSpot-Config', 6, 'text'),
  v(VENDOR_CHILLISPOT, 'ChilliSpot-Lang', 7, 'text'),
  v(VENDOR_CHILLISPOT, 'ChilliSpot-Version', 8, 'text'),
  v(VENDOR_CHILLISPOT, 'ChilliSpot-OriginalURL', 9, 'text'),
  v(VENDOR_CHILLISPOT, 'ChilliSpot-Max-Input-Gigawords', 21, 'integer'),
  v(VENDOR_CHILLISPOT, 'ChilliSpot-Max-Output-Gigawords', 22, 'integer'),
  v(VENDOR_CHILLISPOT, 'ChilliSpot-Max-Total-Gigawords', 23, 'integer'),
];

const BY_NAME = new Map(ATTRIBUTES.map((a) => [a.name.toLowerCase(), a]));
const BY_NUMBER = new Map(ATTRIBUTES.map((a) => [`${String(a.vendor ?? 0)}:${String(a.type)}`, a]));

/** The definition of an attribute by its (case-insensitive) name, or undefined. */
export function attributeByName(name: string): AttributeDef | undefined {
  return BY_NAME.get(name.toLowerCase());
}

/** The definition of attribute `type` (of `vendor`, for a Vendor-Specific sub-attribute), or undefined. */
export function attributeByNumber(type: number, vendor = 0): AttributeDef | undefined {
  return BY_NUMBER.get(`${String(vendor)}:${String(type)}`);
}
