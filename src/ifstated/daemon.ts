/**
 * The daemon: a link monitor and a test scheduler feed the machine, whose
 * `run` actions go to a bounded queue. `reload()` re-reads the config and
 * keeps the old one when the new one is bad (ifstated.c does the same on
 * SIGHUP). Every transition is logged; `describe()` is the status line.
 * Library code changes no process state: the CLI installs the signal
 * handlers and calls these.
 */
import type { Server } from 'node:http';
import type { Logger } from '../core/index.js';
import { formatDiagnostic, loadConfigFile, type Loaded } from './config.js';
import { BsdLinkMonitor } from './bsd-link-monitor.js';
import type { LinkMonitor } from './link-monitor.js';
import { LinuxLinkMonitor } from './linux-link-monitor.js';
import { Machine, type LinkState, type TestSpec } from './machine.js';
import { escapeLabel, serveMetrics } from './metrics.js';
import { RunQueue } from './run-queue.js';
import { Spawner, type SpawnerOptions } from './spawner.js';
import { NOT_STARTED, TestScheduler, type TestRecord } from './test-scheduler.js';

export interface DaemonOptions {
  file: string;
  defines: Record<string, string>;
  strict: boolean;
  inhibit: boolean;
  verbose: number;
  logger: Logger;
  metrics?: { host: string; port: number };
  runTimeoutMs: number;
  reconcileMs: number;
  monitor: 'linux' | 'bsd';
  /** How tests are started (MOAT_IFSTATED_SPAWNER); default: posix_spawn with the addon, else the perl helper, else fork. */
  spawner?: SpawnerOptions;
}

export class Daemon {
  private machine: Machine | undefined;
  private readonly scheduler: TestScheduler;
  private readonly runs: RunQueue;
  private monitor: LinkMonitor | undefined;
  private metricsServer: Server | undefined;
  /** Test commands that could not be started, reported once until they start again. */
  private readonly notStarted = new Set<string>();
  transitions = 0;
  reloads = 0;
  reloadFailures = 0;

  constructor(private readonly options: DaemonOptions) {
    this.runs = new RunQueue(options.logger, options.runTimeoutMs);
    this.scheduler = new TestScheduler({
      result: (spec, ok, rec, detail) => {
        this.onTestResult(spec, ok, rec, detail);
      },
      started: (spec) => {
        if (this.options.verbose >= 2) this.options.logger.debug(`running test ${spec.command}`);
      },
    }, new Spawner(options.spawner));
  }

  get state(): string | undefined {
    return this.machine?.state;
  }

  private report(loaded: Loaded): void {
    for (const d of loaded.diagnostics) {
      const text = formatDiagnostic(d, loaded.config).split('\n')[0] ?? d.message;
      if (d.severity === 'error') this.options.logger.error(text);
      else this.options.logger.warning(text);
    }
  }

  private build(loaded: Loaded): Machine {
    const log = this.options.logger;
    return new Machine(
      loaded.config,
      {
        run: (command, where) => {
          this.runs.push(command, where);
        },
        transition: (from, to, reason) => {
          this.transitions++;
          log.info(`changing state to ${to}`, { from: from ?? '', to, reason });
        },
        testsChanged: (active: readonly TestSpec[]) => {
          this.scheduler.setActive(active);
        },
        problem: (message) => {
          log.error(message);
        },
      },
      this.options.inhibit,
    );
  }

  /** Load the config; false (and logged errors) when it is bad. */
  async start(): Promise<boolean> {
    const loaded = await loadConfigFile(this.options.file, { defines: this.options.defines, strict: this.options.strict });
    this.report(loaded);
    if (loaded.failed) return false;
    const monitorHooks = {
      onLink: (e: { ifname: string; state: LinkState }) => {
        this.onLink(e.ifname, e.state);
      },
      onError: (m: string) => {
        this.options.logger.warning(m);
      },
      reconcileMs: this.options.reconcileMs,
    };
    this.monitor = this.options.monitor === 'linux' ? new LinuxLinkMonitor(monitorHooks) : new BsdLinkMonitor(monitorHooks);
    await this.monitor.start();
    this.machine = this.build(loaded);
    this.feedLinks(this.machine);
    this.machine.start();
    this.options.logger.info(`started in state ${this.machine.state ?? '(none)'}`, { config: this.options.file });
    if (this.options.metrics !== undefined) this.metricsServer = await serveMetrics(this.options.metrics, () => this.metricsText());
    return true;
  }

  // Interfaces the config names but the host lacks are down ("an interface
  // that disappears is down"); the rest take their current state.
  private feedLinks(m: Machine): void {
    const snap = this.monitor?.snapshot() ?? new Map<string, LinkState>();
    m.initialLinks([...m.interfaces()].map((name): [string, LinkState] => [name, snap.get(name) ?? 'down']));
  }

  private onLink(ifname: string, state: LinkState): void {
    const m = this.machine;
    if (m === undefined) return;
    if (!m.interfaces().has(ifname)) return;
    if (this.options.verbose >= 1) this.options.logger.info(`${ifname} link ${state}`);
    try {
      m.setLink(ifname, state);
    } catch (e) {
      this.options.logger.error(`evaluating after ${ifname} link ${state}: ${String(e)}`);
    }
  }

  private onTestResult(spec: TestSpec, ok: boolean, rec: TestRecord, detail: string): void {
    const m = this.machine;
    if (m === undefined) return;
    // A test that cannot be started (a missing command) is a mistake in the
    // config: said once, not every interval, and again after it has started.
    if (!detail.startsWith(NOT_STARTED)) this.notStarted.delete(spec.command);
    else if (!this.notStarted.has(spec.command)) {
      this.notStarted.add(spec.command);
      this.options.logger.warning(`test ${detail}`, { command: spec.command });
    }
    if (this.options.verbose >= 1 || rec.timeouts > 0) {
      const msg = `test ${ok ? 'ok' : 'failed'} (${detail}, ${(rec.lastDurationMs ?? 0).toFixed(0)} ms)`;
      if (detail.startsWith('timed out')) this.options.logger.warning(msg, { command: spec.command });
      else if (this.options.verbose >= 1) this.options.logger.info(msg, { command: spec.command });
    }
    try {
      m.testResult(spec.scope, spec.key, ok);
    } catch (e) {
      this.options.logger.error(`evaluating after test ${spec.command}: ${String(e)}`);
    }
  }

  /** Re-read the config (the CLI's SIGHUP); on error keep running the old one. */
  async reload(): Promise<boolean> {
    this.reloads++;
    let loaded: Loaded;
    try {
      loaded = await loadConfigFile(this.options.file, { defines: this.options.defines, strict: this.options.strict });
    } catch (e) {
      this.reloadFailures++;
      this.options.logger.error(`reload failed, keeping the old configuration: ${String(e instanceof Error ? e.message : e)}`);
      return false;
    }
    this.report(loaded);
    if (loaded.failed) {
      this.reloadFailures++;
      this.options.logger.error('reload failed, keeping the old configuration', { config: this.options.file });
      return false;
    }
    this.scheduler.stop();
    this.machine = this.build(loaded);
    this.feedLinks(this.machine);
    this.machine.start();
    this.options.logger.info(`reloaded; state ${this.machine.state ?? '(none)'}`, { config: this.options.file });
    return true;
  }

  describe(): string {
    const m = this.machine;
    const links = m === undefined ? [] : [...m.linkStates()].map(([k, v]) => `${k}=${v}`);
    const tests = this.scheduler.records().map((r) => {
      const res = r.lastOk === undefined ? 'pending' : r.lastOk ? 'ok' : 'failed';
      const ms = r.lastDurationMs === undefined ? '' : ` ${r.lastDurationMs.toFixed(0)}ms`;
      return `"${r.spec.command}" every ${String(r.spec.interval)}=${res}${ms}`;
    });
    const sp = this.scheduler.spawner;
    const spawner = sp.mode === 'helper' ? `tests started by helper${sp.helperPid === undefined ? '' : ` pid ${String(sp.helperPid)}`}` : sp.mode === 'posix_spawn' ? 'tests started with posix_spawn' : 'tests started directly';
    return `state ${m?.state ?? '(none)'}; links ${links.join(' ') || '(none)'}; tests ${tests.join(', ') || '(none)'}; ${spawner}; ${String(this.runs.length)} run(s) queued`;
  }

  metricsText(): string {
    const m = this.machine;
    const out: string[] = [];
    const metric = (name: string, type: string, help: string, rows: [string, number][]): void => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, v] of rows) out.push(`${name}${labels} ${String(v)}`);
    };
    metric('ifstated_state', 'gauge', 'The current state (1) among all declared states.', (m?.config.states ?? []).map((s) => [`{state="${escapeLabel(s.name)}"}`, s.name === m?.state ? 1 : 0]));
    metric('ifstated_link_up', 'gauge', 'Link state: 1 up, 0 down, -1 unknown.', [...(m?.linkStates() ?? new Map<string, LinkState>())].map(([k, v]) => [`{interface="${escapeLabel(k)}"}`, v === 'up' ? 1 : v === 'down' ? 0 : -1]));
    const recs = this.scheduler.records();
    const lab = (r: TestRecord): string => `{command="${escapeLabel(r.spec.command)}",interval="${String(r.spec.interval)}",scope="${escapeLabel(r.spec.scope)}"}`;
    metric('ifstated_test_ok', 'gauge', 'Last result of each running test (1 success, 0 failure, -1 none yet).', recs.map((r) => [lab(r), r.lastOk === undefined ? -1 : r.lastOk ? 1 : 0]));
    metric('ifstated_test_duration_seconds', 'gauge', 'Duration of the last run of each test.', recs.map((r) => [lab(r), (r.lastDurationMs ?? 0) / 1000]));
    metric('ifstated_test_runs_total', 'counter', 'Runs of each test since it started.', recs.map((r) => [lab(r), r.runs]));
    metric('ifstated_test_failures_total', 'counter', 'Failed runs of each test since it started.', recs.map((r) => [lab(r), r.failures]));
    metric('ifstated_transitions_total', 'counter', 'State changes since start.', [['', this.transitions]]);
    metric('ifstated_commands_total', 'counter', 'run commands started.', [['', this.runs.started]]);
    metric('ifstated_command_failures_total', 'counter', 'run commands that failed or timed out.', [['', this.runs.failed]]);
    metric('ifstated_reload_failures_total', 'counter', 'SIGHUP reloads rejected for a bad config.', [['', this.reloadFailures]]);
    metric('ifstated_monitor_restarts_total', 'counter', 'Restarts of the link monitor process.', [['', this.monitor?.restarts ?? 0]]);
    return `${out.join('\n')}\n`;
  }

  async stop(): Promise<void> {
    this.scheduler.stop();
    this.runs.clear();
    await this.runs.idle();
    await this.monitor?.stop();
    const server = this.metricsServer;
    if (server !== undefined) {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  }
}
