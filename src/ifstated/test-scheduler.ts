/**
 * Runs the external tests the machine wants, each on its own timer, so that
 * one test never waits for another and the daemon never waits for any.
 * As in ifstated.c each test runs once right away and then every interval; a
 * run still going when the next is due is killed (external_async_exec()).
 * moat adds a timeout per run (default: the interval), after which the
 * run's process group is killed and the run counts as a failure.
 */
import type { Running } from './command-runner.js';
import type { TestSpec } from './machine.js';
import { Spawner } from './spawner.js';

export interface TestRecord {
  spec: TestSpec;
  runs: number;
  failures: number;
  timeouts: number;
  lastOk: boolean | undefined;
  lastDurationMs: number | undefined;
  lastAt: number | undefined;
}

export interface SchedulerHooks {
  result(spec: TestSpec, ok: boolean, record: TestRecord, detail: string): void;
  started?(spec: TestSpec): void;
}

interface Entry {
  record: TestRecord;
  timer: NodeJS.Timeout;
  running: Running | undefined;
}

/** How a result's detail starts when the command could not be started at all. */
export const NOT_STARTED = 'not started: ';

const idOf = (s: TestSpec): string => `${s.scope}\u0000${s.key}`;

export class TestScheduler {
  private readonly entries = new Map<string, Entry>();
  /** Starts the test commands (through a small helper process where it can). */
  readonly spawner: Spawner;

  constructor(
    private readonly hooks: SchedulerHooks,
    spawner?: Spawner,
  ) {
    this.spawner = spawner ?? new Spawner();
  }

  records(): TestRecord[] {
    return [...this.entries.values()].map((e) => e.record);
  }

  /** Processes currently running tests. */
  get runningCount(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.running !== undefined) n++;
    return n;
  }

  setActive(specs: readonly TestSpec[]): void {
    const wanted = new Map(specs.map((s) => [idOf(s), s]));
    for (const [id, e] of this.entries) {
      if (!wanted.has(id)) {
        clearInterval(e.timer);
        e.running?.kill();
        this.entries.delete(id);
      }
    }
    for (const [id, spec] of wanted) {
      if (this.entries.has(id)) continue;
      const record: TestRecord = { spec, runs: 0, failures: 0, timeouts: 0, lastOk: undefined, lastDurationMs: undefined, lastAt: undefined };
      const entry: Entry = { record, running: undefined, timer: setInterval(() => {
          this.fire(id);
        }, spec.interval * 1000) };
      this.entries.set(id, entry);
      this.fire(id);
    }
  }

  private fire(id: string): void {
    const e = this.entries.get(id);
    if (e === undefined) return;
    // external_async_exec(): a run still going when the next is due is killed.
    e.running?.kill();
    const spec = e.record.spec;
    const run = this.spawner.run(spec.command, spec.timeout * 1000);
    e.running = run;
    this.hooks.started?.(spec);
    void run.done.then((r) => {
      if (e.running === run) e.running = undefined;
      // A run of a test that was stopped (state left) reports nothing.
      if (this.entries.get(id) !== e) return;
      const ok = r.code === 0;
      const rec = e.record;
      rec.runs++;
      if (!ok) rec.failures++;
      if (r.timedOut) rec.timeouts++;
      rec.lastOk = ok;
      rec.lastDurationMs = r.durationMs;
      rec.lastAt = Date.now();
      const detail = r.timedOut
        ? `timed out after ${String(spec.timeout)}s`
        : r.spawnError !== undefined
          ? `${NOT_STARTED}${r.spawnError}${r.code === undefined ? '' : `, exit ${String(r.code)}`}`
          : r.signal !== undefined
            ? `killed by ${r.signal}`
            : `exit ${String(r.code)}`;
      this.hooks.result(spec, ok, rec, detail);
    });
  }

  /** Stop every test; their processes are killed, and the helper ends until the next test starts. */
  stop(): void {
    for (const e of this.entries.values()) {
      clearInterval(e.timer);
      e.running?.kill();
    }
    this.entries.clear();
    this.spawner.close();
  }
}
