import { hostname } from 'node:os';

/** RFC 5424 §6.2.1 severities, by the names syslog.conf uses. */
export const SEVERITIES = {
  emerg: 0,
  alert: 1,
  crit: 2,
  err: 3,
  warning: 4,
  notice: 5,
  info: 6,
  debug: 7,
} as const;
export type Severity = keyof typeof SEVERITIES;

/** RFC 5424 §6.2.1 facilities that daemons use. */
export const FACILITIES = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7,
  uucp: 8, cron: 9, authpriv: 10, ftp: 11,
  local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23,
} as const;
export type Facility = keyof typeof FACILITIES;

export type FieldValue = string | number | boolean;
export type Fields = Readonly<Record<string, FieldValue>>;

/**
 * Our SD-ID. RFC 5424 §7.2.2 wants `name@<private enterprise number>`;
 * 32473 is the number IANA reserves for documentation (RFC 5612).
 */
export const SD_ID = 'moat@32473';

export interface SyslogMessage {
  facility: Facility;
  severity: Severity;
  appName: string;
  procId?: string;
  msgId?: string;
  fields?: Fields;
  message: string;
  time?: Date;
  hostname?: string;
}

// RFC 5424 §6: PRINTUSASCII fields; NILVALUE "-" when empty.
function header(value: string | undefined, max: number): string {
  if (value === undefined || value === '') return '-';
   
  const clean = value.replace(/[^\x21-\x7e]/g, '_');
  return clean.slice(0, max);
}

// RFC 5424 §6.3.3: SD-NAME is 1..32 printable chars except '=', ' ', ']', '"'.
function sdName(name: string): string {
   
  const clean = name.replace(/[^\x21-\x7e]|[= \]"]/g, '_').slice(0, 32);
  return clean === '' ? '_' : clean;
}

// RFC 5424 §6.3.3: in PARAM-VALUE, '"', '\' and ']' must be escaped with '\'.
function sdValue(value: FieldValue): string {
  return String(value).replace(/[\\"\]]/g, (c) => `\\${c}`);
}

/** Render the structured-data part for our fields, or NILVALUE. */
export function structuredData(fields: Fields | undefined): string {
  if (fields === undefined) return '-';
  const params = Object.entries(fields).map(([k, v]) => ` ${sdName(k)}="${sdValue(v)}"`);
  if (params.length === 0) return '-';
  return `[${SD_ID}${params.join('')}]`;
}

/**
 * One RFC 5424 message: `<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD [BOM]MSG`.
 * The message is sent as UTF-8 with the BOM that §6.4 asks for when it is not
 * pure ASCII, so receivers know to decode it.
 */
export function formatRfc5424(m: SyslogMessage): string {
  const pri = FACILITIES[m.facility] * 8 + SEVERITIES[m.severity];
  const time = (m.time ?? new Date()).toISOString();
  const host = header(m.hostname ?? hostname(), 255);
  const app = header(m.appName, 48);
  const proc = header(m.procId ?? String(process.pid), 128);
  const msgId = header(m.msgId, 32);
   
  const ascii = /^[\x00-\x7f]*$/.test(m.message);
  const body = m.message === '' ? '' : ` ${ascii ? '' : '\ufeff'}${m.message}`;
  return `<${String(pri)}>1 ${time} ${host} ${app} ${proc} ${msgId} ${structuredData(m.fields)}${body}`;
}
