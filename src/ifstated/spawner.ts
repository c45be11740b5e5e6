/**
 * Starts test commands through a small long-lived helper instead of from the
 * daemon itself. Node starts a child with fork()+exec() (libuv 1.46 has no
 * vfork or posix_spawn path on Linux), and fork() of a 50-80 MB process costs
 * the parent about a millisecond of CPU in page-table copies and the
 * copy-on-write faults that follow. At 50 tests a second that alone is ~4% of
 * a core. The helper is a 5 MB perl process (perl-base is Essential on
 * Debian; OpenBSD and macOS ship perl) whose forks are cheap; the daemon
 * sends it argv vectors and reads back pids and wait statuses.
 *
 * Safety: the helper runs a fixed script; commands reach it as NUL-separated
 * argv (NUL cannot occur in an execve(2) argument) and are started with perl's
 * list form of exec, which never involves a shell; commandArgv() decides,
 * exactly as for a direct spawn, when `/bin/sh -c` is needed. Every child gets
 * its own process group (setpgid(2)), so a timeout or leaving a state kills
 * what the command started too. The helper lives in its own session, so a
 * terminal's ^C does not reach it, and exits, killing every group it started,
 * as soon as its stdin reaches EOF: when the daemon dies, the tests die.
 *
 * Where moat's native addon is present, none of this is needed: tests are
 * started with posix_spawn(3) (native-runner.ts), which copies no page tables
 * and needs no helper. When neither the addon nor perl is there, or the helper
 * keeps dying, tests are started directly (runCommand), with the same results.
 */
import { spawn, type ChildProcess, type ChildProcessByStdio } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { loadNative, type NativeAddon } from '../core/index.js';
import { commandArgv, runCommand, type RunResult, type Running } from './command-runner.js';
import { NativeRunner } from './native-runner.js';

// Protocol. In (daemon → helper), NUL-terminated fields:
//   r ID ARGC ARG...   start ARGV with stdio on /dev/null
//   k ID               SIGKILL the process group of run ID, if still running
// Out (helper → daemon), lines gathered over one turn of the helper's loop
// and written together (fewer wakeups for the daemon); an exec failure is
// written by the child itself, a line shorter than PIPE_BUF, so it cannot
// land inside another write:
//   s ID PID           started
//   e ID MESSAGE       fork or exec failed (exec failures exit 127)
//   x ID STATUS        reaped; STATUS is the wait(2) status
// `select` has a timeout because a SIGCHLD that lands between perl's signal
// check and the select(2) call would otherwise be noticed only at the next
// input; 0.25 s bounds that (rare) delay at four wakeups a second.
// No `use strict`/`use warnings`/Errno: every module loaded makes each fork
// copy more page tables (perf: copy_page_range and COW faults dominate).
const SCRIPT = String.raw`
my (%kid, %pid, %early, @f);
my %restore = map { split /=/, $_, 2 } @ARGV;
my $buf = '';
my $out = '';
sub flush {
  while ($out ne '') {
    my $w = syswrite STDOUT, $out;
    if (!defined $w) { next if $! == 4; exit 1; }  # EINTR is 4 on Linux and the BSDs
    substr($out, 0, $w) = '';
  }
}
sub reap {
  while ((my $p = waitpid(-1, 1)) > 0) {
    my $st = $?;
    kill 'KILL', -$p;
    my $id = delete $kid{$p};
    if (!defined $id) { $early{$p} = $st; next; }
    delete $pid{$id};
    $out .= "x $id $st\n";
  }
}
$SIG{CHLD} = \&reap;
while (1) {
  flush();
  my $rin = ''; vec($rin, 0, 1) = 1;
  my $n = select($rin, undef, undef, 0.25);
  reap();
  next if $n <= 0;
  my $r = sysread STDIN, $buf, 65536, length $buf;
  if (!defined $r) { next if $! == 4; last; }
  last if !$r;
  die 'record too long' if length $buf > 1048576;
  push @f, $1 while $buf =~ s/^([^\0]*)\0//;
  while (@f) {
    my $op = $f[0];
    if ($op eq 'k') {
      last if @f < 2;
      my (undef, $id) = splice @f, 0, 2;
      kill 'KILL', -$pid{$id} if defined $pid{$id};
    } elsif ($op eq 'r') {
      last if @f < 3;
      my $argc = $f[2];
      die 'bad argc' unless $argc =~ /^[1-9][0-9]{0,4}$/;
      last if @f < 3 + $argc;
      my (undef, $id, undef, @argv) = splice @f, 0, 3 + $argc;
      my $p = fork;
      if (!defined $p) { $out .= "e $id fork: $!\nx $id 32512\n"; next; }
      if ($p == 0) {
        $SIG{CHLD} = 'DEFAULT';
        $ENV{$_} = $restore{$_} for keys %restore;
        open(my $rep, '>&', \*STDOUT);
        setpgrp(0, 0);
        open STDIN, '<', '/dev/null'; open STDOUT, '>', '/dev/null'; open STDERR, '>', '/dev/null';
        exec { $argv[0] } @argv;
        my $e = substr("$argv[0]: $!", 0, 200); $e =~ s/\n/ /g;
        syswrite $rep, "e $id $e\n";
        exit 127;
      }
      # As shells do, the parent sets the group too, so that a kill sent
      # before the child ran setpgrp still finds the group (setpgid(2)).
      setpgrp($p, $p);
      $out .= "s $id $p\n";
      if (exists $early{$p}) { $out .= "x $id " . delete($early{$p}) . "\n"; next; }
      $kid{$p} = $id; $pid{$id} = $p;
    } else {
      die 'bad op';
    }
  }
}
kill 'KILL', -$_ for keys %kid;
flush();
`;

/** perl(1) reads these at startup; they are kept from the helper and given back to the commands. */
const PERL_ENV = ['PERL5OPT', 'PERL5LIB', 'PERLLIB', 'PERL5DB', 'PERL_UNICODE', 'PERLIO', 'PERL_HASH_SEED'];
/** Bytes we let pile up for a helper that does not read: then it is hung, and is killed. */
const MAX_BACKLOG = 1024 * 1024;
/** After a kill, how long the helper has to report the child's end before it is deemed hung. */
const HUNG_HELPER_MS = 5000;
/** A helper that dies this soon after starting, this many times in a row, is given up on. */
const QUICK_DEATH_MS = 2000;
const MAX_QUICK_DEATHS = 3;

function findExecutable(name: string, path: string | undefined): string | undefined {
  for (const dir of (path ?? '/usr/bin:/bin').split(delimiter)) {
    if (dir === '') continue;
    const file = join(dir, name);
    try {
      accessSync(file, fsConstants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

const signalNames = new Map<number, string>(Object.entries(osConstants.signals).map(([name, n]) => [n, name]));

type Helper = ChildProcessByStdio<Writable, Readable, null>;

interface Pending {
  helper: ChildProcess;
  pid: number | undefined;
  start: number;
  timer: NodeJS.Timeout;
  timedOut: boolean;
  spawnError: string | undefined;
  resolve: (r: RunResult) => void;
}

export interface SpawnerOptions {
  /** The native addon for posix_spawn, or false not to use it. Default: moat's addon when it loads. */
  native?: NativeAddon | false;
  /** The perl to run when there is no addon, or false to start commands directly then. Default: perl on PATH. */
  perl?: string | false;
}

/** How tests are started: posix_spawn (the addon), the perl helper, or Node's own fork+exec. */
export type SpawnerMode = 'posix_spawn' | 'helper' | 'direct';

export class Spawner {
  private helper: Helper | undefined;
  /** Helpers we told to exit (close()), whose exit is not a failure. */
  private readonly closing = new WeakSet<ChildProcess>();
  private readonly startedAt = new WeakMap<ChildProcess, number>();
  private quickDeaths = 0;
  private readonly pending = new Map<number, Pending>();
  /** Commands started directly (no helper), so that close() can kill them too. */
  private readonly direct = new Set<Running>();
  private nextId = 1;
  private perl: string | undefined;
  private readonly native: NativeRunner | undefined;

  constructor(options: SpawnerOptions = {}) {
    const addon = options.native === false ? undefined : (options.native ?? loadNative());
    this.native = addon === undefined ? undefined : new NativeRunner(addon);
    // perl is looked for only when it may be used.
    this.perl = options.perl === false || this.native !== undefined ? undefined : (options.perl ?? findExecutable('perl', process.env.PATH));
  }

  /** 'posix_spawn' with the addon; else 'helper' while tests go through perl, 'direct' once they are started by the daemon itself. */
  get mode(): SpawnerMode {
    if (this.native !== undefined) return 'posix_spawn';
    return this.perl === undefined ? 'direct' : 'helper';
  }

  /** The helper's pid, when one is running (for status and the benchmark). */
  get helperPid(): number | undefined {
    return this.helper?.pid;
  }

  /** Start a command with its output discarded; only the exit status counts. */
  run(command: string, timeoutMs: number): Running {
    const argv = commandArgv(command);
    // NUL cannot reach execve(2); the direct path reports it as Node does.
    if (argv.some((a) => a.includes('\0'))) return this.runDirect(command, timeoutMs);
    if (this.native !== undefined) return this.native.run(argv, timeoutMs);
    if (this.perl === undefined) return this.runDirect(command, timeoutMs);
    const helper = this.ensureHelper();
    const stdin = helper.stdin;
    const id = this.nextId++;
    const kill = (): void => {
      if (this.pending.has(id) && this.helper === helper) stdin.write(`k\0${String(id)}\0`);
    };
    let entry: Pending | undefined;
    const done = new Promise<RunResult>((resolve) => {
      const timer = setTimeout(() => {
        if (entry !== undefined) entry.timedOut = true;
        kill();
        // A helper that cannot report a SIGKILLed child within seconds is hung:
        // killing it settles every pending run and kills their groups.
        setTimeout(() => {
          if (this.pending.has(id) && !helper.killed) helper.kill('SIGKILL');
        }, HUNG_HELPER_MS).unref();
      }, timeoutMs);
      timer.unref();
      entry = { helper, pid: undefined, start: performance.now(), timer, timedOut: false, spawnError: undefined, resolve };
      this.pending.set(id, entry);
    });
    // Tests due together (one timer tick) go to the helper in one write(2).
    if (stdin.writableCorked === 0) {
      stdin.cork();
      process.nextTick(() => {
        stdin.uncork();
      });
    }
    stdin.write(`r\0${String(id)}\0${String(argv.length)}\0${argv.join('\0')}\0`);
    if (stdin.writableLength > MAX_BACKLOG) helper.kill('SIGKILL');
    return {
      get pid() {
        return entry?.pid;
      },
      done,
      kill,
    };
  }

  private runDirect(command: string, timeoutMs: number): Running {
    const r = runCommand(command, { timeoutMs, captureOutput: false });
    this.direct.add(r);
    void r.done.then(() => this.direct.delete(r));
    return r;
  }

  /** Kill every running command and end the helper; a later run() starts a new one. */
  close(): void {
    this.native?.close();
    for (const r of this.direct) r.kill();
    this.direct.clear();
    const helper = this.helper;
    if (helper === undefined) return;
    // On EOF the helper kills every group it started and exits; its 'close'
    // settles what is pending.
    this.closing.add(helper);
    this.helper = undefined;
    helper.stdin.end();
  }

  private ensureHelper(): Helper {
    if (this.helper !== undefined) return this.helper;
    const env: NodeJS.ProcessEnv = { ...process.env };
    const restore: string[] = [];
    for (const name of PERL_ENV) {
      const v = env[name];
      if (v === undefined) continue;
      restore.push(`${name}=${v}`);
      // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- a copy of the environment, by a fixed list of names
      delete env[name];
    }
    const helper = spawn(this.perl ?? 'perl', ['-e', SCRIPT, '--', ...restore], { stdio: ['pipe', 'pipe', 'ignore'], detached: true, env, shell: false });
    this.helper = helper;
    this.startedAt.set(helper, performance.now());
    helper.stdin.on('error', () => {
      // EPIPE from a helper that died; its 'close' handles the rest.
    });
    createInterface({ input: helper.stdout, crlfDelay: Infinity }).on('line', (line) => {
      this.onLine(line);
    });
    helper.once('error', () => {
      // ENOENT and the like; 'close' follows.
    });
    helper.once('close', () => {
      this.onHelperExit(helper);
    });
    return helper;
  }

  private onLine(line: string): void {
    const sp1 = line.indexOf(' ');
    const sp2 = line.indexOf(' ', sp1 + 1);
    if (sp1 !== 1 || sp2 < 0) return;
    const id = Number(line.slice(2, sp2));
    const rest = line.slice(sp2 + 1);
    const p = this.pending.get(id);
    if (p === undefined) return;
    switch (line[0]) {
      case 's':
        p.pid = Number(rest);
        return;
      case 'e':
        p.spawnError = rest;
        return;
      case 'x': {
        const status = Number(rest);
        const sig = status & 0x7f;
        this.settle(id, p, sig === 0 ? (status >> 8) & 0xff : undefined, sig === 0 ? undefined : (signalNames.get(sig) ?? `signal ${String(sig)}`));
        return;
      }
    }
  }

  private settle(id: number, p: Pending, code: number | undefined, signal: string | undefined): void {
    this.pending.delete(id);
    clearTimeout(p.timer);
    p.resolve({ code, signal, timedOut: p.timedOut, spawnError: p.spawnError, durationMs: performance.now() - p.start, output: '' });
  }

  private onHelperExit(helper: ChildProcess): void {
    if (this.helper === helper) this.helper = undefined;
    const lived = performance.now() - (this.startedAt.get(helper) ?? 0);
    const asked = this.closing.has(helper);
    if (!asked && lived < QUICK_DEATH_MS) {
      this.quickDeaths++;
      if (this.quickDeaths >= MAX_QUICK_DEATHS) this.perl = undefined;
    } else {
      this.quickDeaths = 0;
    }
    for (const [id, p] of this.pending) {
      if (p.helper !== helper) continue;
      // A helper told to exit killed its groups; orphans of one that died we kill ourselves.
      if (!asked && p.pid !== undefined) {
        try {
          process.kill(-p.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      p.spawnError ??= asked ? 'stopped' : 'the test spawner exited';
      this.settle(id, p, undefined, undefined);
    }
  }
}
