// `moat portal check -f portal.yaml` (also `moat portal -n` and `run -n`):
// load the config as the daemon would and say what it would do, without
// touching the firewall, dnsmasq or the network.
import { accessSync, constants } from 'node:fs';
import { resolve } from 'node:path';
import { EX_OK, MoatError, UsageError, errnoReason, parseCommandLine, type Io } from '../core/index.js';
import { loadPortalConfig, type PortalSettings } from './portal-config.js';

export const CHECK_USAGE = `usage: moat portal check -f portal.yaml\n`;

/** Common to run and check: `-f FILE` (default /etc/moat/portal.yaml). */
export function configPath(command: string, file: string | undefined, io: Pick<Io, 'cwd'>): string {
  if (file === '') throw new UsageError(`${command}: -f wants a file name`, `try '${command} --help'`);
  return resolve(io.cwd, file ?? '/etc/moat/portal.yaml');
}

/** Files the config names must be readable now, not at the first HTTPS request. */
export function checkFiles(s: PortalSettings): void {
  for (const [what, path] of [['web.cert', s.config.web.cert], ['web.key', s.config.web.key]] as const) {
    if (path === undefined) continue;
    try {
      accessSync(path, constants.R_OK);
    } catch (e) {
      throw new MoatError('MOAT_PORTAL_CONFIG_FILE', `${s.file}: ${what}: cannot read ${path}: ${errnoReason(e)}`);
    }
  }
}

export function describeSettings(s: PortalSettings): string {
  const c = s.config;
  const lines = [
    `nas-id: ${c['nas-id']}`,
    `interface: ${c.interface} ${c.address}${c.address6 === undefined ? '' : ` ${c.address6}`}`,
    `dhcp: ${c.dhcp === undefined ? 'not served' : `${c.dhcp.range[0]}-${c.dhcp.range[1]}, lease ${String(c.dhcp['lease-time'])}s${c.dhcp.ipv6 ? ', IPv6 router advertisements and stateless DHCPv6' : ''}`}`,
    `radius: ${c.radius.servers.map((r) => `${r.host}:${String(r['auth-port'])}/${String(r['acct-port'])}`).join(', ')}, ${c.radius.method}, timeout ${String(c.radius.timeout)}s x${String(c.radius.retries + 1)}`,
    `coa: ${c.radius.coa === undefined ? 'off' : `${c.radius.coa.listen}:${String(c.radius.coa.port)}, ${String(c.radius.coa.clients.length)} client(s)`}`,
    `login page: ${c.web['login-url'] ?? `built-in, http://${s.portalHost}:${String(c.web.port)}/`}`,
    `signature: ${c.web.md}${c.web.md === 'md5' ? ' (CoovaChilli compatibility)' : `, valid ${String(c.web['md-lifetime'])}s`}`,
    `captive API: ${c.web.cert === undefined ? 'off (no web.cert)' : `https://${s.portalHost}:${String(c.web['https-port'])}/api`}`,
    `garden: ${String(c.garden.domains.length)} domain(s), ${String(c.garden.addresses.length)} address(es)`,
    `mac-auth: ${c['mac-auth'].enabled ? 'on' : 'off'}, ${String(c['mac-auth'].trusted.length)} trusted MAC(s)`,
    `firewall: ${c.firewall.backend} table ${c.firewall.table}`,
    `sessions: interim ${String(c.session['interim-interval'])}s, state in ${c.session['state-dir']}`,
    `metrics: ${c.metrics ?? 'off'}`,
    `query socket: ${c.query.socket}${c.query.group === undefined ? '' : ` (group ${c.query.group})`}`,
    '',
  ];
  return lines.join('\n');
}

export async function checkMain(argv: readonly string[], io: Io): Promise<number> {
  const command = 'moat portal check';
  const { values } = parseCommandLine(command, argv, { file: { type: 'string', short: 'f' }, help: { type: 'boolean', short: 'h' } }, false);
  if (values.help === true) {
    io.stdout.write(CHECK_USAGE);
    return EX_OK;
  }
  const s = await loadPortalConfig(configPath(command, values.file, io));
  checkFiles(s);
  io.stdout.write(describeSettings(s));
  return EX_OK;
}
