import { formatRfc5424, SEVERITIES, type Facility, type Fields, type Severity } from './syslog-format.js';
import { parseSyslogTarget, SyslogTransport } from './syslog-transport.js';

export type { Fields, Severity, Facility } from './syslog-format.js';

export interface LoggerOptions {
  /** RFC 5424 APP-NAME, e.g. `moat-finger`. */
  appName: string;
  /** Where local lines go; omit for no local logging (`--log-no-local`). */
  stderr?: NodeJS.WritableStream;
  /** `text` (the default) or one JSON object per line. */
  format?: 'text' | 'json';
  /** `udp://…`, `tcp://…` or `unix:///…`. */
  syslog?: string;
  facility?: Facility;
  /** Least severe level that is logged; default `info`. */
  level?: Severity;
}

/**
 * One logger for every moat command. Each record has a severity, a message
 * and flat fields; the fields become RFC 5424 structured data in syslog and
 * keys in JSON lines.
 */
export class Logger {
  readonly appName: string;
  private readonly stderr: NodeJS.WritableStream | undefined;
  private readonly format: 'text' | 'json';
  private readonly facility: Facility;
  private readonly threshold: number;
  private readonly transport: SyslogTransport | undefined;

  constructor(options: LoggerOptions) {
    this.appName = options.appName;
    this.stderr = options.stderr;
    this.format = options.format ?? 'text';
    this.facility = options.facility ?? 'daemon';
    this.threshold = SEVERITIES[options.level ?? 'info'];
    this.transport = options.syslog === undefined ? undefined : new SyslogTransport(parseSyslogTarget(options.syslog));
  }

  enabled(severity: Severity): boolean {
    return SEVERITIES[severity] <= this.threshold;
  }

  log(severity: Severity, message: string, fields?: Fields): void {
    if (!this.enabled(severity)) return;
    const time = new Date();
    if (this.stderr !== undefined) {
      this.stderr.write(this.format === 'json' ? jsonLine(time, severity, this.appName, message, fields) : textLine(this.appName, severity, message, fields));
    }
    if (this.transport !== undefined) {
      const m = { facility: this.facility, severity, appName: this.appName, message, time };
      this.transport.send(formatRfc5424(fields === undefined ? m : { ...m, fields }));
    }
  }

  debug(message: string, fields?: Fields): void {
    this.log('debug', message, fields);
  }
  info(message: string, fields?: Fields): void {
    this.log('info', message, fields);
  }
  notice(message: string, fields?: Fields): void {
    this.log('notice', message, fields);
  }
  warning(message: string, fields?: Fields): void {
    this.log('warning', message, fields);
  }
  error(message: string, fields?: Fields): void {
    this.log('err', message, fields);
  }

  /** Messages dropped because the syslog server was unreachable too long. */
  get dropped(): number {
    return this.transport?.dropped ?? 0;
  }

  async flush(): Promise<void> {
    await this.transport?.flush();
  }

  async close(): Promise<void> {
    await this.transport?.close();
  }
}

// A value is quoted when it would otherwise not read back as one token.
function textValue(v: string | number | boolean): string {
  const s = String(v);
  return /^[^\s"=]+$/.test(s) ? s : JSON.stringify(s);
}

function textLine(app: string, severity: Severity, message: string, fields?: Fields): string {
  const tail = fields === undefined ? '' : Object.entries(fields).map(([k, v]) => ` ${k}=${textValue(v)}`).join('');
  const level = severity === 'info' ? '' : `${severity}: `;
  return `${app}: ${level}${message}${tail}\n`;
}

function jsonLine(time: Date, severity: Severity, app: string, message: string, fields?: Fields): string {
  return `${JSON.stringify({ time: time.toISOString(), level: severity, app, msg: message, ...fields })}\n`;
}
