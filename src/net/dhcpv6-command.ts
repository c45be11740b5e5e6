// `moat net dhcpv6-check`: judge the lease timers in DHCPv6 Advertise and
// Reply messages from a capture, or given as flags.
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { EX_DATAERR, EX_FAIL, EX_OK, UsageError, installStatusLine, onFile, readCapture, parseCommandLine, type Io } from '../core/index.js';
import { resolve } from 'node:path';
import { dhcpv6FromFrame } from './dhcpv6-capture.js';
import { MESSAGE_NAMES, MSG_ADVERTISE, MSG_REPLY, parseDhcpv6, type IdentityAssociation } from './dhcpv6-message.js';
import { INFINITY, judgeIa, type Verdict } from './dhcpv6-verdict.js';

export const DHCPV6_USAGE = `usage: moat net dhcpv6-check [--iface NAME] CAPTURE.pcap|CAPTURE.pcapng
       moat net dhcpv6-check --t1 N --t2 N --preferred N --valid N
  Judge each IA_NA/IA_PD of the server's Advertise and Reply messages
  against RFC 8415 §21.4 and §21.6 and say what dhcpcd would log.
  N is seconds, or "infinity". Exit 1 when a client would discard or
  misuse the lease.
`;

function seconds(command: string, name: string, value: string | undefined): number {
  if (value === undefined) throw new UsageError(`${command}: --${name} is required with the timer flags`, `try '${command} --help'`);
  if (value === 'infinity') return INFINITY;
  if (!/^\d{1,10}$/.test(value) || Number(value) > INFINITY) {
    throw new UsageError(`${command}: --${name} wants seconds (0-4294967295 or infinity), not '${value}'`, `try '${command} --help'`);
  }
  return Number(value);
}

function report(io: Io, head: string, verdicts: Verdict[]): boolean {
  io.stdout.write(`${head}\n`);
  for (const v of verdicts) io.stdout.write(`  ${v.severity}: ${v.text}\n`);
  return verdicts.some((v) => v.severity === 'discard' || v.severity === 'misuse');
}

function describe(ia: IdentityAssociation): string {
  return `${ia.kind} iaid ${String(ia.iaid)}: T1 ${String(ia.t1)} T2 ${String(ia.t2)}`;
}

export async function dhcpv6Main(argv: readonly string[], io: Io): Promise<number> {
  const command = 'moat net dhcpv6-check';
  const { values, positionals } = parseCommandLine(command, argv, {
    t1: { type: 'string' },
    t2: { type: 'string' },
    preferred: { type: 'string' },
    valid: { type: 'string' },
    iface: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help === true) {
    io.stdout.write(DHCPV6_USAGE);
    return EX_OK;
  }
  const iface = values.iface ?? 'IFACE';
  const flagMode = [values.t1, values.t2, values.preferred, values.valid].some((v) => v !== undefined);
  if (flagMode) {
    if (positionals.length > 0) throw new UsageError(`${command}: give a capture or the timer flags, not both`, `try '${command} --help'`);
    const ia: IdentityAssociation = {
      kind: 'IA_NA',
      iaid: 0,
      t1: seconds(command, 't1', values.t1),
      t2: seconds(command, 't2', values.t2),
      leases: [{ what: 'address', preferred: seconds(command, 'preferred', values.preferred), valid: seconds(command, 'valid', values.valid) }],
    };
    return report(io, `flags: ${describe(ia)}`, judgeIa(ia, iface)) ? EX_FAIL : EX_OK;
  }
  const [file, extra] = positionals;
  if (file === undefined || extra !== undefined) throw new UsageError(`${command}: give one capture file, or the timer flags`, `try '${command} --help'`);
  // core's file errors: "cannot read FILE: No such file or directory", EX_NOINPUT (or EX_NOPERM).
  await onFile(file, 'read', () => access(resolve(io.cwd, file), constants.R_OK));
  let n = 0;
  let seen = 0;
  let bad = false;
  // A capture can be large: SIGINFO/SIGUSR1 say how far the reading is.
  const removeStatus = installStatusLine({ command, describe: () => `read ${String(n)} packets of ${file}, ${String(seen)} DHCPv6 replies` });
  try {
    for await (const p of readCapture(resolve(io.cwd, file))) {
      n++;
      const dgram = dhcpv6FromFrame(p.linktype, p.data);
      if (dgram === undefined) continue;
      const msg = parseDhcpv6(dgram.payload);
      if (msg === undefined || (msg.type !== MSG_ADVERTISE && msg.type !== MSG_REPLY)) continue;
      seen++;
      const name = MESSAGE_NAMES[msg.type] ?? String(msg.type);
      if (msg.ias.length === 0) io.stdout.write(`${file}: packet ${String(n)}: ${name} from ${dgram.source}: no IA_NA or IA_PD\n`);
      for (const ia of msg.ias) {
        if (report(io, `${file}: packet ${String(n)}: ${name} from ${dgram.source}: ${describe(ia)}`, judgeIa(ia, iface, dgram.source))) bad = true;
      }
    }
  } finally {
    removeStatus();
  }
  if (seen === 0) {
    io.stderr.write(`moat net dhcpv6-check: ${file}: no DHCPv6 Advertise or Reply (UDP 547 to 546) among ${String(n)} packets\n`);
    return EX_DATAERR;
  }
  return bad ? EX_FAIL : EX_OK;
}
