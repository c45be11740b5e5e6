// Pennock's Go fingerd takes Go-style flags with one dash, and the seed's
// rc.d script uses them (`-run-as-user 65534:65534 -pidfile=/log/pids/…`).
// They are accepted as aliases so such a script needs only its binary path
// changed. Go's flag package also accepts two dashes, and `-name=value`.

const ALIASES: Readonly<Record<string, string>> = {
  'run-as-user': 'run-as-user',
  pidfile: 'pidfile',
  listen: 'listen',
  'log.syslog.address': 'log-syslog',
  'log.no-local': 'log-no-local',
};

/** Rewrite Go-style flags to ours; everything else passes through untouched. */
export function normaliseLegacyFlags(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const m = /^--?([a-z][a-z.-]*[a-z])(=.*)?$/.exec(a);
    const name = m?.[1];
    const mapped = name === undefined ? undefined : ALIASES[name];
    if (m === null || mapped === undefined || (a.startsWith('--') && !name?.includes('.'))) {
      out.push(a);
      continue;
    }
    let value = m[2]?.slice(1);
    if (mapped === 'log-syslog') {
      // Go fingerd's address is host:port (UDP) or a socket path; ours is a URL.
      if (value === undefined && i + 1 < argv.length) value = argv[++i];
      out.push(`--log-syslog=${syslogUrl(value ?? '')}`);
      continue;
    }
    out.push(value === undefined ? `--${mapped}` : `--${mapped}=${value}`);
  }
  return out;
}

function syslogUrl(value: string): string {
  if (/^(udp|tcp|unix):\/\//.test(value)) return value;
  if (value.startsWith('/')) return `unix://${value}`;
  return `udp://${value}`;
}
