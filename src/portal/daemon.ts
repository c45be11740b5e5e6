// `moat portal run`: the firewall table, dnsmasq, the RADIUS client and CoA
// listener, the web server, the query socket and the metrics, started in
// that order and stopped in the reverse. Library code: signal handlers are
// the caller's (run-command.ts).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { Logger, MoatError, SourceSyntaxError, errorMessage, type Io } from '../core/index.js';
import { superviseDnsmasq, renderDnsmasqConfig, renderPreloginDnsmasqConfig, type DnsmasqSupervisor } from './dnsmasq/index.js';
import { createFirewall, pfGardenDnsTable } from './firewall/index.js';
import { RadiusClient, startCoaListener, type CoaListener } from './radius/index.js';
import { ClientLookup } from './client-lookup.js';
import { Gateway, stationId } from './gateway.js';
import { PortalMetrics, serveMetrics, splitHostPort } from './metrics.js';
import { loadPortalConfig, type PortalSettings } from './portal-config.js';
import type { ClientKey, Firewall, Radius } from './ports.js';
import { QueryServer } from './query-server.js';
import type { Session } from './session.js';
import { SessionStore } from './session-store.js';
import { PortalWeb } from './web-server.js';

export interface DaemonOptions {
  /** Log options from the command line. */
  logSyslog?: string;
  logNoLocal?: boolean;
  logFormat?: 'text' | 'json';
  /** For tests and benchmarks: other ports, no dnsmasq. */
  webPorts?: { http: number; https: number };
  dnsmasq?: boolean;
  /** Scan of neighbours for trusted and MAC-authenticated clients, ms (default 2000). */
  scanMs?: number;
}

export interface PortalDaemon {
  readonly gateway: Gateway;
  readonly web: string[];
  readonly metricsAddress: string | undefined;
  /** One line for SIGUSR1/SIGINFO. */
  describe(): string;
  /** Read portal.yaml again; a bad file keeps the running settings. Resolves to whether it took. */
  reload(): Promise<boolean>;
  /** Stop everything; clients stay in the firewall and the journal. */
  close(): Promise<void>;
  readonly done: Promise<void>;
}

/** RADIUS client with the settings' servers, as the gateway's Radius. */
function makeRadius(s: PortalSettings, metrics: PortalMetrics): { radius: Radius; client: RadiusClient } {
  const r = s.config.radius;
  const client = new RadiusClient({
    servers: r.servers.map((x) => ({ host: x.host, authPort: x['auth-port'], acctPort: x['acct-port'], secret: x.secret })),
    timeoutMs: r.timeout * 1000,
    retries: r.retries,
    nasIdentifier: s.config['nas-id'],
    ...(r['nas-ip'] === undefined ? {} : { nasIpAddress: r['nas-ip'] }),
    calledStationId: s.config['nas-id'],
    requireMessageAuthenticator: r['require-message-authenticator'],
    onEvent: (e) => {
      if (e.type === 'timeout') metrics.radiusTimeouts++;
    },
  });
  const radius: Radius = {
    authenticate: (req) => client.authenticate(req),
    accounting: async (req) => {
      await client.accounting(req);
    },
    close: () => client.close(),
  };
  return { radius, client };
}

function makeFirewall(s: PortalSettings, logger: Logger): Firewall & { teardown(): Promise<void>; gardenAdd(a: string): Promise<void>; gardenDel(a: string): Promise<void> } {
  const c = s.config;
  const fw = createFirewall({
    backend: c.firewall.backend,
    table: c.firewall.table,
    lanInterface: c.interface,
    gatewayV4: s.gateway,
    prefixV4: s.prefixLength,
    gatewayV6: s.gateway6,
    webPort: c.web.port,
    httpsPort: c.web['https-port'],
    preloginDnsPort: c.dns['prelogin-port'],
    gardenAddresses: c.garden.addresses,
    wanInterface: c.wan,
    logger,
  });
  return {
    setup: () => fw.setup(),
    authorize: (k, l) => fw.authorize(k, l),
    deauthorize: (k) => fw.deauthorize(k),
    setLimits: (k, l) => fw.setLimits(k, l),
    addAddresses: (k, l) => fw.addAddresses(k, l),
    counters: () => fw.counters(),
    authorized: async () =>
      (await fw.authorized()).flatMap((a) => (a.ipv4 === undefined ? [] : [{ ifname: a.ifname, mac: a.mac, ipv4: a.ipv4, ...(a.ipv6.length === 0 ? {} : { ipv6: a.ipv6 }) }])),
    close: () => fw.close(),
    teardown: () => fw.teardown(),
    gardenAdd: (a) => fw.gardenAdd(a),
    gardenDel: (a) => fw.gardenDel(a),
  };
}

function dnsmasqFiles(s: PortalSettings): { main: string; prelogin: string; leaseFile: string } {
  const c = s.config;
  const dir = c.session['state-dir'];
  const leaseFile = join(dir, 'dnsmasq.leases');
  const apiUrl = `https://${s.portalHost}:${String(c.web['https-port'])}/api`;
  const common = {
    interface: c.interface,
    gatewayV4: s.gateway,
    gatewayV6: s.gateway6,
    upstream: c.dns.upstream,
    gardenDomains: c.garden.domains,
    table: c.firewall.table,
    ...(c.firewall.backend === 'pf' ? { pfTable: pfGardenDnsTable(c.firewall.table) } : {}),
    portalHostname: c.web.hostname,
  };
  return {
    main: renderDnsmasqConfig({
      ...common,
      range: c.dhcp?.range,
      prefixV4: s.prefixLength,
      ...(c.dhcp === undefined ? {} : { leaseTime: c.dhcp['lease-time'] }),
      leaseFile,
      captiveApiUrl: apiUrl,
      ipv6: c.dhcp?.ipv6 === true,
      pidFile: join(dir, 'dnsmasq.pid'),
    }),
    prelogin: renderPreloginDnsmasqConfig({ ...common, port: c.dns['prelogin-port'], pidFile: join(dir, 'dnsmasq-prelogin.pid') }),
    leaseFile,
  };
}

export async function startPortal(initial: PortalSettings, io: Io, options: DaemonOptions = {}): Promise<PortalDaemon> {
  let settings = initial;
  const c0 = settings.config;
  const stderr = options.logNoLocal === true ? undefined : io.stderr;
  const syslog = options.logSyslog ?? c0.log.syslog;
  const logger = new Logger({
    appName: 'moat-portal',
    format: options.logFormat ?? 'text',
    level: c0.log.level,
    ...(stderr === undefined ? {} : { stderr }),
    ...(syslog === undefined ? {} : { syslog }),
  });
  const metrics = new PortalMetrics();
  const stateDir = c0.session['state-dir'];
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const store = new SessionStore(stateDir);
  const restored = await store.load();

  const firewall = makeFirewall(settings, logger);
  await firewall.setup();
  let { radius, client: radiusClient } = makeRadius(settings, metrics);
  const radiusProxy: Radius = {
    authenticate: (r) => radius.authenticate(r),
    accounting: (r) => radius.accounting(r),
    close: () => radius.close(),
  };
  const defaultsOf = (s: PortalSettings) => ({
    sessionTimeout: s.config.session['session-timeout'],
    idleTimeout: s.config.session['idle-timeout'],
    interimInterval: s.config.session['interim-interval'],
  });
  const lookup = new ClientLookup(c0.interface, join(stateDir, 'dnsmasq.leases'));
  const gateway = new Gateway({
    radius: radiusProxy,
    firewall,
    store,
    logger,
    metrics,
    defaults: defaultsOf(settings),
    calledStationId: c0['nas-id'],
    ...(settings.gateway6 === undefined ? {} : { ipv6Of: (mac: string) => lookup.ipv6Of(mac) }),
  });
  const reconciled = await gateway.restore();
  logger.info('sessions restored', { journal: restored, ...reconciled });
  // RFC 2866 §5.1 Accounting-On says the NAS starts afresh; servers then close
  // this NAS's open sessions, so it is sent only when none carry on.
  if (restored === 0) void radius.accounting({ statusType: 'on' }).catch((e: unknown) => { logger.warning('Accounting-On failed', { error: errorMessage(e) }); });

  const cleanups: (() => Promise<void>)[] = [];
  let dnsmasq: DnsmasqSupervisor[] = [];
  let dnsmasqText = '';
  const startDnsmasq = async (s: PortalSettings): Promise<void> => {
    const f = dnsmasqFiles(s);
    const text = f.main + f.prelogin;
    if (text === dnsmasqText) return;
    for (const d of dnsmasq) await d.stop();
    const dir = s.config.session['state-dir'];
    // After a kill -9 our dnsmasq children live on, holding the ports.
    for (const pidFile of ['dnsmasq.pid', 'dnsmasq-prelogin.pid']) await stopOrphan(join(dir, pidFile), dir);
    await writeFile(join(dir, 'dnsmasq.conf'), f.main, { mode: 0o644 });
    await writeFile(join(dir, 'dnsmasq-prelogin.conf'), f.prelogin, { mode: 0o644 });
    dnsmasq = [
      superviseDnsmasq({ configFile: join(dir, 'dnsmasq.conf'), name: 'dnsmasq', logger }),
      superviseDnsmasq({ configFile: join(dir, 'dnsmasq-prelogin.conf'), name: 'dnsmasq-prelogin', logger }),
    ];
    dnsmasqText = text;
    for (const d of dnsmasq) await d.start();
  };
  const dnsmasqOn = options.dnsmasq ?? c0.dns.managed;
  try {
    if (dnsmasqOn) await startDnsmasq(settings);

    // MAC authentication: once per MAC per minute at most, so a rejected
    // device does not send RADIUS a request per packet.
    const macTried = new Map<string, number>();
    const macAuth = async (client: ClientKey): Promise<Session | undefined> => {
      const s = settings.config['mac-auth'];
      if (s.trusted.includes(client.mac)) return gateway.authorizeLocal(client, stationId(client.mac), 'trusted');
      if (!s.enabled) return undefined;
      const now = Date.now();
      if ((macTried.get(client.mac) ?? 0) > now) return undefined;
      if (macTried.size > 65536) macTried.clear();
      macTried.set(client.mac, now + 60_000);
      const userName = stationId(client.mac);
      const r = await gateway.login(client, { kind: 'mac', userName, password: s.password ?? userName }, 'mac');
      return r.ok ? r.session : undefined;
    };

    let coa: CoaListener | undefined;
    const r = c0.radius.coa;
    if (r !== undefined) {
      coa = await startCoaListener(
        { host: r.listen, port: r.port, clients: r.clients.map((x) => ({ address: x.address, secret: x.secret })), nasIdentifier: c0['nas-id'] },
        (req) => gateway.dynamic(req),
      );
      const listener = coa;
      cleanups.push(() => listener.close());
    }

    const web = new PortalWeb({ settings, gateway, lookup, logger, metrics, macAuth, ...(options.webPorts === undefined ? {} : { ports: options.webPorts }) });
    const bound = await web.listen();
    cleanups.push(() => web.close());

    const query = new QueryServer({
      gateway,
      lookup,
      logger,
      settings: () => settings,
      garden: { add: (a) => firewall.gardenAdd(a), del: (a) => firewall.gardenDel(a) },
    });
    await query.listen(c0.query.socket, c0.query.group);
    cleanups.push(() => query.close());

    let metricsServer: Server | undefined;
    if (c0.metrics !== undefined) {
      const { host, port } = splitHostPort(c0.metrics);
      metricsServer = await serveMetrics(host, port, () => {
        let up = 0n;
        let down = 0n;
        for (const s of store.all()) {
          up += s.totals.bytesUp;
          down += s.totals.bytesDown;
        }
        return metrics.render({ sessions: store.size, bytesUp: up, bytesDown: down, dnsmasqUp: dnsmasq.length > 0 && dnsmasq.every((d) => d.running) });
      });
      const m = metricsServer;
      cleanups.push(() => new Promise((res) => m.close(() => {
        res();
      })));
    }
    const ma = metricsServer?.address();
    const metricsAddress = typeof ma === 'object' && ma !== null ? `${ma.address}:${String(ma.port)}` : undefined;

    // The accounting loop and the neighbour scan; one pass at a time each.
    let ticking = false;
    const tick = setInterval(() => {
      if (ticking) return;
      ticking = true;
      gateway
        .tick()
        .catch((e: unknown) => { logger.error('accounting pass failed', { error: errorMessage(e) }); })
        .finally(() => (ticking = false));
    }, c0.session['check-interval'] * 1000);
    // The neighbour scan: MAC authentication of new neighbours, and IPv6
    // addresses authorised clients start using (privacy, SLAAC) joining their sessions.
    let scanning = false;
    const scan = setInterval(() => {
      const m = settings.config['mac-auth'];
      const macScan = m.enabled || m.trusted.length > 0;
      const v6Scan = settings.gateway6 !== undefined && settings.config.session['adopt-ipv6'] && store.size > 0;
      if (scanning || (!macScan && !v6Scan)) return;
      scanning = true;
      void (async () => {
        if (macScan) {
          for (const n of await lookup.neighbours()) {
            if (store.byMacAddress(n.mac) === undefined) await macAuth({ ifname: n.ifname, mac: n.mac, ipv4: n.ip });
          }
        }
        if (v6Scan) await gateway.adoptAddresses(settings.config.interface, await lookup.ipv6Neighbours());
      })()
        .catch((e: unknown) => { logger.error('neighbour scan failed', { error: errorMessage(e) }); })
        .finally(() => (scanning = false));
    }, options.scanMs ?? 2000);
    cleanups.push(() => {
      clearInterval(tick);
      clearInterval(scan);
      return Promise.resolve();
    });

    let resolveDone: () => void = () => undefined;
    const done = new Promise<void>((res) => (resolveDone = res));
    let closing: Promise<void> | undefined;
    logger.info('started', { 'nas-id': c0['nas-id'], interface: c0.interface, web: bound.join(','), sessions: store.size });

    const reload = async (): Promise<boolean> => {
      let next: PortalSettings;
      try {
        next = await loadPortalConfig(settings.file);
      } catch (e) {
        const where = e instanceof SourceSyntaxError ? `${e.file}:${String(e.line)}:${String(e.column)}: ` : '';
        logger.error('reload failed; keeping the running configuration', { error: `${where}${errorMessage(e)}` });
        return false;
      }
      const fixed = ['interface', 'address', 'address6', 'wan'] as const;
      const changed = fixed.filter((k) => next.config[k] !== settings.config[k]);
      if (changed.length > 0 || next.config.web.port !== settings.config.web.port || next.config.firewall.table !== settings.config.firewall.table) {
        logger.error('reload refused: interface, addresses, ports and table need a restart; keeping the running configuration', { changed: changed.join(',') });
        return false;
      }
      const old = radiusClient;
      ({ radius, client: radiusClient } = makeRadius(next, metrics));
      void old.close();
      settings = next;
      gateway.defaults = defaultsOf(next);
      web.update({ settings: next, gateway, lookup, logger, metrics, macAuth, ...(options.webPorts === undefined ? {} : { ports: options.webPorts }) });
      if (dnsmasqOn) await startDnsmasq(next).catch((e: unknown) => { logger.error('dnsmasq restart failed', { error: errorMessage(e) }); });
      logger.info('reloaded', { file: next.file });
      return true;
    };

    const close = (): Promise<void> => {
      closing ??= (async () => {
        for (const c of cleanups.reverse()) await c().catch(() => undefined);
        for (const d of dnsmasq) await d.stop().catch(() => undefined);
        await store.save().catch((e: unknown) => { logger.error('cannot write the session journal', { error: errorMessage(e) }); });
        await radiusClient.close().catch(() => undefined);
        await firewall.close();
        logger.info('stopped', { sessions: store.size });
        await logger.close();
        resolveDone();
      })();
      return closing;
    };

    return {
      gateway,
      web: bound,
      metricsAddress,
      describe: () =>
        `${String(store.size)} online, ${String(metrics.loginsAccepted)} logins accepted, ${String(metrics.loginsRejected)} rejected, ${String(metrics.radiusTimeouts)} RADIUS timeouts, dnsmasq ${dnsmasqOn ? (dnsmasq.every((d) => d.running) ? 'up' : 'down') : 'not managed'}`,
      reload,
      close,
      done,
    };
  } catch (e) {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    for (const d of dnsmasq) await d.stop().catch(() => undefined);
    await radiusClient.close().catch(() => undefined);
    await logger.close();
    if (e instanceof MoatError) throw e;
    throw new MoatError('MOAT_PORTAL_START', `cannot start: ${errorMessage(e)}`, { cause: e });
  }
}

/** Stop a dnsmasq an earlier run of ours left behind: its pid file is ours and its command line names our state directory. */
async function stopOrphan(pidFile: string, stateDir: string): Promise<void> {
  const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 1) return;
  const cmdline = await readFile(`/proc/${String(pid)}/cmdline`, 'utf8').catch(() => '');
  if (!cmdline.includes('dnsmasq') || !cmdline.includes(stateDir)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let i = 0; i < 50; i++) {
    await new Promise((r) => setTimeout(r, 50));
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
  }
}
