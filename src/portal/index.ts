// moat portal: a captive portal for hotspots with RADIUS, on nftables (and
// PF). The public face: the library API and the CLI registration.
import { subcommandMain, type CommandMain } from '../core/index.js';
import { checkMain } from './check-command.js';

export { parsePortalConfig, loadPortalConfig, portalConfigSchema, type PortalSettings, type PortalConfigFile } from './portal-config.js';
export { describeSettings } from './check-command.js';
export { startPortal, type PortalDaemon, type DaemonOptions } from './daemon.js';
export { Gateway, type LoginResult } from './gateway.js';
export { SessionStore } from './session-store.js';
export { PortalWeb } from './web-server.js';
export { QueryServer } from './query-server.js';
export { ask as askDaemon } from './query-command.js';
export type * from './ports.js';

export const USAGE = `usage: moat portal run [-n] [-f portal.yaml] [--pidfile FILE]
                   [--log-syslog URL] [--log-no-local] [--log-format text|json]
       moat portal check [-f portal.yaml]       (also: moat portal -n)
       moat portal query [-S socket] list | show MAC|IP | logout MAC|IP
                       | authorize MAC|IP [user] | garden [add|del ADDR]
A captive portal with RADIUS, on nftables (Linux) or PF; see moat-portal(8).
  -f FILE      portal.yaml (default /etc/moat/portal.yaml)
  -n           check the configuration and exit
  -S SOCKET    the daemon's query socket (default /run/moat-portal.sock)
Signals to run: SIGTERM stops (clients stay online), SIGHUP reloads
portal.yaml (a bad file keeps the old one), SIGUSR1/SIGINFO print a status line.
`;

const dispatch = subcommandMain('portal', USAGE, {
  check: checkMain,
  run: async (argv, io) => (await import('./run-command.js')).runMain(argv, io),
  query: async (argv, io) => (await import('./query-command.js')).queryMain(argv, io),
});

/** `moat portal -n -f FILE` is `moat portal check -f FILE`, as `-n` is everywhere in moat. */
export const main: CommandMain = (argv, io) => (argv[0] === '-n' ? checkMain(argv.slice(1), io) : dispatch(argv, io));
