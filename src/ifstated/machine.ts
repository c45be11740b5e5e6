/**
 * The state machine of OpenBSD's ifstated.c, without any I/O, so that the
 * daemon and `simulate` share it exactly:
 *  - after an event the global body and then the current state's body are
 *    re-run (level-triggered); a `run` under a true `if` runs again each time;
 *  - the last `set-state` of a pass wins (do_action() only records nextstate);
 *  - entering a state runs its `init`, every time (state_change());
 *  - a state's body waits until each of its tests has reported since the
 *    state was entered (eval_state()'s lastexec >= entered);
 *  - `link.up` is also true when the link state is unknown (LINK_STATE_IS_UP);
 *  - with -i, the first value seen for a link or test is not applied.
 */
import { testKey, terms, walkActions, type Action, type Config, type Expr, type StateDecl, type TestTerm } from './ast.js';

export type LinkState = 'up' | 'down' | 'unknown';

/** A test as the scheduler runs it: de-duplicated by (command, interval) within its scope. */
export interface TestSpec {
  /** '' for tests in the global body, else the state's name. */
  scope: string;
  key: string;
  command: string;
  interval: number;
  rise: number;
  fall: number;
  timeout: number;
}

export interface MachineHooks {
  /** A `run` action fired (the daemon queues it; simulate prints it). */
  run(command: string, where: string): void;
  /** The state changed (after the new state's tests were started). */
  transition(from: string | undefined, to: string, reason: string): void;
  /** The set of tests that should be running changed. */
  testsChanged(active: readonly TestSpec[]): void;
  /** Something went wrong inside the machine (a set-state loop). */
  problem(message: string): void;
}

interface TestStatus {
  spec: TestSpec;
  value: boolean | undefined;
  successes: number;
  failures: number;
  lastOk: boolean | undefined;
  /** Has it reported (a decided value) since its state was entered? */
  reported: boolean;
  /** Has any result arrived (for -i)? */
  seen: boolean;
}

/** Bound on transitions in one evaluation; a longer chain is an init ping-pong loop. */
export const MAX_TRANSITIONS = 32;

export function testsOf(actions: readonly Action[], scope: string): TestSpec[] {
  const byKey = new Map<string, TestSpec>();
  for (const { action } of walkActions(actions)) {
    if (action.kind !== 'if') continue;
    for (const t of terms(action.condition)) {
      if (t.kind === 'test' && !byKey.has(testKey(t))) byKey.set(testKey(t), specOf(t, scope));
    }
  }
  return [...byKey.values()];
}

function specOf(t: TestTerm, scope: string): TestSpec {
  return { scope, key: testKey(t), command: t.command, interval: t.interval, rise: t.rise ?? 1, fall: t.fall ?? 1, timeout: t.timeout ?? t.interval };
}

export class Machine {
  private current: StateDecl | undefined;
  private readonly links = new Map<string, LinkState>();
  private readonly seenLinks = new Set<string>();
  private tests = new Map<string, TestStatus>();
  private readonly byName: Map<string, StateDecl>;
  transitions = 0;

  constructor(
    readonly config: Config,
    private readonly hooks: MachineHooks,
    private readonly inhibitInitial = false,
  ) {
    this.byName = new Map(config.states.map((s) => [s.name, s]));
  }

  get state(): string | undefined {
    return this.current?.name;
  }

  linkStates(): ReadonlyMap<string, LinkState> {
    return this.links;
  }

  testStatuses(): { spec: TestSpec; value: boolean | undefined }[] {
    return [...this.tests.values()].map((t) => ({ spec: t.spec, value: t.value }));
  }

  /** Interfaces the config mentions. */
  interfaces(): Set<string> {
    const out = new Set<string>();
    for (const list of [this.config.global, ...this.config.states.flatMap((s) => [s.init, s.body])]) {
      for (const { action } of walkActions(list)) {
        if (action.kind === 'if') for (const t of terms(action.condition)) if (t.kind === 'link') out.add(t.ifname);
      }
    }
    return out;
  }

  /** Link states known before start; with -i they are seen but not applied. */
  initialLinks(links: Iterable<[string, LinkState]>): void {
    for (const [name, state] of links) {
      this.seenLinks.add(name);
      if (!this.inhibitInitial) this.links.set(name, state);
    }
  }

  /** Start: global tests, then the initial state (init-state, else the first declared). */
  start(): void {
    this.setActive();
    const first = this.config.initState === undefined ? this.config.states[0] : this.byName.get(this.config.initState.name);
    this.evaluate('startup', first);
  }

  /** A link changed; returns true when it made a difference to the machine. */
  setLink(ifname: string, state: LinkState): boolean {
    if (this.inhibitInitial && !this.seenLinks.has(ifname)) {
      this.seenLinks.add(ifname);
      return false;
    }
    this.seenLinks.add(ifname);
    if (this.links.get(ifname) === state) return false;
    this.links.set(ifname, state);
    this.evaluate(`${ifname} link ${state}`);
    return true;
  }

  /** A test run finished. Returns the test's (hysteresis-filtered) value. */
  testResult(scope: string, key: string, ok: boolean): boolean | undefined {
    const t = this.tests.get(`${scope}\u0000${key}`);
    if (t === undefined) return undefined; // a late result from a test that was stopped
    const wasReported = t.reported;
    if (this.inhibitInitial && !t.seen) {
      // -i: the first result is not applied, but it does count as a report.
      t.seen = true;
      t.reported = true;
      if (this.ready(scope)) this.evaluate(`test ${t.spec.command} reported`);
      return t.value;
    }
    t.seen = true;
    if (ok) {
      t.successes = t.lastOk === true ? t.successes + 1 : 1;
      t.failures = 0;
    } else {
      t.failures = t.lastOk === false ? t.failures + 1 : 1;
      t.successes = 0;
    }
    t.lastOk = ok;
    const before = t.value;
    if (ok && t.successes >= t.spec.rise) t.value = true;
    if (!ok && t.failures >= t.spec.fall) t.value = false;
    // With rise/fall a test has reported only once its value is decided.
    if (t.value !== undefined) t.reported = true;
    const opened = !wasReported && t.reported && this.ready(scope);
    if (t.value !== before || opened) this.evaluate(`test ${t.spec.command} ${t.value === true ? 'ok' : 'failed'}`);
    return t.value;
  }

  private truth(e: Expr, scope: string): boolean {
    switch (e.kind) {
      case 'link': {
        const s = this.links.get(e.ifname);
        if (s === undefined) return false;
        if (e.condition === 'up') return s === 'up' || s === 'unknown';
        return s === e.condition;
      }
      case 'test':
        return this.tests.get(`${scope}\u0000${testKey(e)}`)?.value === true;
      case 'not':
        return !this.truth(e.operand, scope);
      case 'and':
        return this.truth(e.left, scope) && this.truth(e.right, scope);
      case 'or':
        return this.truth(e.left, scope) || this.truth(e.right, scope);
    }
  }

  /** do_action(): run commands now, return the last set-state target. */
  private exec(actions: readonly Action[], scope: string, where: string): string | undefined {
    let next: string | undefined;
    for (const a of actions) {
      if (a.kind === 'run') this.hooks.run(a.command, where);
      else if (a.kind === 'set-state') next = a.target;
      else if (this.truth(a.condition, scope)) next = this.exec(a.body, scope, where) ?? next;
    }
    return next;
  }

  // eval_state(): a state with tests waits for each to report since entry.
  private ready(scope: string): boolean {
    for (const t of this.tests.values()) if (t.spec.scope === scope && !t.reported) return false;
    return true;
  }

  private evaluate(reason: string, enter?: StateDecl): void {
    if (this.ready('')) this.exec(this.config.global, '', 'global');
    let target = enter;
    if (target === undefined && this.current !== undefined && this.ready(this.current.name)) {
      const next = this.exec(this.current.body, this.current.name, this.current.name);
      target = next === undefined ? undefined : this.byName.get(next);
    }
    for (let hops = 0; target !== undefined && target !== this.current; hops++) {
      if (hops >= MAX_TRANSITIONS) {
        this.hooks.problem(`more than ${String(MAX_TRANSITIONS)} state changes in one step (a set-state loop); staying in ${this.current?.name ?? '(none)'}`);
        return;
      }
      const from = this.current?.name;
      this.current = target;
      this.transitions++;
      this.setActive();
      this.hooks.transition(from, target.name, reason);
      const fromInit = this.exec(target.init, target.name, `${target.name} init`);
      let next = fromInit === undefined ? undefined : this.byName.get(fromInit);
      if (next === undefined && this.ready(target.name)) {
        const n = this.exec(target.body, target.name, target.name);
        next = n === undefined ? undefined : this.byName.get(n);
      }
      target = next;
    }
  }

  // On leaving a state its tests stop and forget their results (state_change()).
  private setActive(): void {
    const wanted = [...testsOf(this.config.global, ''), ...(this.current === undefined ? [] : testsOf([...this.current.init, ...this.current.body], this.current.name))];
    const next = new Map<string, TestStatus>();
    for (const spec of wanted) {
      const id = `${spec.scope}\u0000${spec.key}`;
      next.set(id, this.tests.get(id) ?? { spec, value: undefined, successes: 0, failures: 0, lastOk: undefined, reported: false, seen: false });
    }
    this.tests = next;
    this.hooks.testsChanged(wanted);
  }
}
