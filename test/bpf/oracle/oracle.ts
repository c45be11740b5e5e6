// The libpcap oracle: builds oracle.c with gcc (once per source version, in
// a temp dir keyed by its hash) and runs it. Tests compare moat against it.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Insn, Program } from '../../../src/bpf/insn.js';
import { haveCommand, repoRoot } from '../../helpers/system.js';

const source = join(repoRoot, 'test', 'bpf', 'oracle', 'oracle.c');

/** Can the oracle be built here? (gcc and libpcap-dev's header.) */
export function haveOracle(): boolean {
  return haveCommand('gcc') && existsSync('/usr/include/pcap/pcap.h');
}

let built: string | undefined;

/** Path of the built oracle binary, building it if needed. */
export function oraclePath(): string {
  if (built !== undefined) return built;
  const text = readFileSync(source);
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), `moat-bpf-oracle-${hash}`);
  const bin = join(dir, 'oracle');
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = `${bin}.${String(process.pid)}`;
    const r = spawnSync('gcc', ['-O2', '-Wall', '-o', tmp, source, '-lpcap'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`building the oracle failed: ${r.stderr}`);
    renameSync(tmp, bin); // atomic, so parallel test files never run a half-written binary
  }
  built = bin;
  return bin;
}

function run(args: string[], input?: string): string {
  const r = spawnSync(oraclePath(), args, { encoding: 'utf8', input: input ?? '', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new OracleError(r.stderr.trim().replace(/^error: /, ''), r.status ?? -1);
  return r.stdout;
}

export class OracleError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export interface FilterResults {
  /** The program libpcap ran (apply mode only). */
  program: Insn[];
  results: number[];
  /** libpcap's message when the capture is damaged part way. */
  error?: string;
}

function parseResults(out: string): FilterResults {
  const results: number[] = [];
  const program: Insn[] = [];
  let error: string | undefined;
  for (const line of out.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('P ')) {
      const [code = 0, jt = 0, jf = 0, k = 0] = line.slice(2).split(' ').map(Number);
      program.push({ code, jt, jf, k });
    } else if (line.startsWith('error: ')) error = line.slice(7);
    else results.push(Number(line));
  }
  return error === undefined ? { program, results } : { program, results, error };
}

/** pcap_offline_filter's result per packet, EXPR compiled for the file's link type. */
export function oracleApply(file: string, expr: string, optimize = false): FilterResults {
  return parseResults(run(['apply', optimize ? '1' : '0', file, expr]));
}

export interface CompileOptions {
  optimize?: boolean;
  snaplen?: number;
  netmask?: number;
}

/** libpcap's program for EXPR on DLT. Throws OracleError with libpcap's message if it does not compile. */
export function oracleCompile(dlt: number, expr: string, o: CompileOptions = {}): Insn[] {
  const out = run(['insns', String(dlt), o.optimize === true ? '1' : '0', String(o.snaplen ?? 262144), String(o.netmask ?? 0), expr]);
  return out
    .trim()
    .split('\n')
    .map((l) => {
      const [code = 0, jt = 0, jf = 0, k = 0] = l.split(' ').map(Number);
      return { code, jt, jf, k };
    });
}

/** bpf_dump output: level 1 = `tcpdump -d`, 2 = `-dd`, 3 = `-ddd`. */
export function oracleDump(dlt: number, expr: string, level: 1 | 2 | 3, o: CompileOptions = {}): string {
  return run(['dump', String(dlt), o.optimize === true ? '1' : '0', String(o.snaplen ?? 262144), String(o.netmask ?? 0), String(level), expr]);
}

/** Run an arbitrary program with pcap_offline_filter over every packet of FILE. */
export function oracleRun(file: string, prog: Program): FilterResults {
  const text = prog.map((i) => `${String(i.code)} ${String(i.jt)} ${String(i.jf)} ${String(i.k >>> 0)}`).join('\n');
  return parseResults(run(['run', file], `${text}\n`));
}

/** Seconds pcap_offline_filter takes over FILE held in memory, `rounds` times. */
export function oracleBench(file: string, rounds: number, expr: string): { packets: number; accepted: number; seconds: number } {
  const [packets = 0, accepted = 0, seconds = 0] = run(['bench', file, String(rounds), expr]).trim().split(' ').map(Number);
  return { packets, accepted, seconds };
}

/** libpcap's program length for each [DLT, EXPR] (optimized unless `optimize` is false); -1 where it does not compile. One run for all. */
export function oracleLengths(items: readonly (readonly [number, string])[], optimize = true): number[] {
  const input = items.map(([dlt, expr]) => `${String(dlt)}\t${expr.replace(/[\t\n]/g, ' ')}\n`).join('');
  return run(['lengths', optimize ? '1' : '0'], input).trim().split('\n').map(Number);
}

/** libpcap's program for each [DLT, EXPR] (optimized unless `optimize` is false); null where it does not compile. One run for all. */
export function oraclePrograms(items: readonly (readonly [number, string])[], optimize = true): (Insn[] | null)[] {
  const input = items.map(([dlt, expr]) => `${String(dlt)}\t${expr.replace(/[\t\n]/g, ' ')}\n`).join('');
  return run(['programs', optimize ? '1' : '0'], input).trim().split('\n').map((line) => {
    const nums = line.split(' ').map(Number);
    if ((nums[0] ?? -1) < 0) return null;
    const out: Insn[] = [];
    for (let i = 1; i + 3 < nums.length; i += 4) out.push({ code: nums[i] ?? 0, jt: nums[i + 1] ?? 0, jf: nums[i + 2] ?? 0, k: nums[i + 3] ?? 0 });
    return out;
  });
}

/** Seconds per pcap_compile (optimized) of each expression; NaN where it does not compile. */
export function oracleCompileTimes(dlt: number, rounds: number, exprs: readonly string[]): number[] {
  return run(['benchc', String(dlt), String(rounds), ...exprs])
    .trim()
    .split('\n')
    .map((l) => {
      const [ok, t] = l.split(' ');
      return ok === '1' ? Number(t) : NaN;
    });
}
