// `npm run bench -- bpf [--e2e-mb N] [--packets N]`: moat bpf against libpcap
// (through the oracle helper) and tcpdump, in one run:
//  - filter throughput, JIT vs pcap_offline_filter, over a capture held in memory;
//  - compile time per expression, compileFilter -O vs pcap_compile -O;
//  - program size, ours -O vs libpcap -O: 2,400 seeded random expressions over every
//    supported link type, and libpcap's accept table (a distribution, not a time);
//  - end to end, `moat bpf filter -r -w` vs `tcpdump -r -w`, MB/s on a generated capture.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCaptureBuffer } from '../src/core/index.js';
import type { Program } from '../src/bpf/insn.js';
import { compileFilter } from '../src/bpf/compiler/index.js';
import { jitBased, type BasedFilter } from '../src/bpf/runtime/index.js';
import { BENCH_FILTERS, ETHER, GENERIC } from '../test/bpf/oracle/expressions.js';
import { oracleBench, oracleCompile, oracleCompileTimes, oraclePath } from '../test/bpf/oracle/oracle.js';
import type { Benchmark, Figures } from './harness.js';
import { writeBenchCapture } from './bpf-lib-capture.js';

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, '..', 'bin', 'moat.js');
const SHORT = ['tcp80', 'prefix', 'prefix+svc', 'mix5'];
const EXPRS = [...GENERIC, ...ETHER, ...BENCH_FILTERS];
const COMPILE_ROUNDS = 50;
/**
 * Passes over the in-memory capture per throughput figure, on both sides
 * (pcap_offline_filter through the oracle's ROUNDS, the JIT in a loop): a
 * single pass of 1M packets lasts ~30 ms, so load noise and our JIT's
 * warm-up (counted, once) would otherwise dominate.
 */
const PASSES = 5;

/**
 * The measuring loop, made afresh per filter: the loop's call site then sees
 * one filter function, as a capture loop running one filter does, instead of
 * the eight this benchmark runs in turn (V8 shares call-site feedback between
 * closures of one function literal, so a plain closure would go megamorphic).
 * The C side calls pcap_offline_filter directly, the same per-packet call.
 */
type Driver = (fn: BasedFilter, mem: Uint8Array, base: Uint32Array, cap: Uint32Array, wire: Uint32Array, passes: number) => number;
let drivers = 0;
function makeDriver(): Driver {
  // Fixed source, no user input; the counter makes each source distinct, as V8
  // caches `new Function` code, and its feedback with it, by source text.
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function(
    'fn', 'mem', 'base', 'cap', 'wire', 'passes',
    `// driver ${String(drivers++)}
    let accepted = 0;
    const count = base.length;
    for (let r = 0; r < passes; r++) for (let j = 0; j < count; j++) if (fn(mem, base[j], cap[j], wire[j]) !== 0) accepted++;
    return accepted;`,
  ) as Driver;
}

/**
 * Untimed passes over the expression set before the compile figure is taken.
 * Per-pass times in one process (scripts/bpf-compile-warmup.mjs; c1ad495
 * and today alike) fall from ~250 µs to ~20 µs in 5 passes, spike again
 * around passes 9-13 and 31-32 while V8 optimizes the rarer paths (code
 * generation for less common keywords, the later optimizer passes), and
 * settle within 2% from about pass 50: with 8 passes the timed ones landed in
 * that spiky stretch and the figure moved by 10-20% between runs of one build.
 */
const COMPILE_WARMUP_PASSES = 60;
/** Timed passes per round; the figure is their mean. */
const COMPILE_PASSES = 5;

/** One pass: every expression compiled COMPILE_ROUNDS times; µs per compile. */
function compilePass(): number {
  const t0 = process.hrtime.bigint();
  let n = 0;
  for (const e of EXPRS) {
    for (let r = 0; r < COMPILE_ROUNDS; r++) {
      try {
        compileFilter(e, { linktype: 1, optimize: true });
      } catch {
        break;
      }
      n++;
    }
  }
  return Number(process.hrtime.bigint() - t0) / 1e3 / n;
}

function flag(argv: string[], name: string, fallback: number): number {
  const i = argv.indexOf(name);
  const v = i >= 0 ? Number(argv[i + 1]) : fallback;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} wants a positive number`);
  return v;
}

export default function bpf(argv: string[]): Benchmark {
  // Issue 5 asks for a 1 GB capture: on less, node's start-up (~0.1 s) weighs on the figure.
  const e2eMb = flag(argv, '--e2e-mb', 1000);
  const packetsWanted = flag(argv, '--packets', 1_000_000);
  let dir = '';
  let memFile = '';
  let bigFile = '';
  // The in-memory capture as one buffer plus per-packet offset and lengths, as a capture ring holds it.
  let mem = new Uint8Array(0);
  let base = new Uint32Array(0);
  let cap = new Uint32Array(0);
  let wire = new Uint32Array(0);
  let bigBytes = 0;

  const setup = async (): Promise<void> => {
    if (dir !== '') return;
    dir = mkdtempSync(join(tmpdir(), 'moat-bench-bpf-'));
    memFile = join(dir, 'mem.pcap');
    bigFile = join(dir, 'big.pcap');
    oraclePath();
    await writeBenchCapture(memFile, { packets: packetsWanted });
    const file = readFileSync(memFile);
    mem = new Uint8Array(file.buffer, file.byteOffset, file.length);
    // Offsets and lengths only: a million packet objects kept alive would
    // make every garbage collection of the compile loop below mark them.
    const offsets: number[] = [];
    const caplens: number[] = [];
    const origlens: number[] = [];
    for (const p of parseCaptureBuffer(mem)) {
      offsets.push(p.data.byteOffset - mem.byteOffset);
      caplens.push(p.caplen);
      origlens.push(p.origlen);
    }
    base = Uint32Array.from(offsets);
    cap = Uint32Array.from(caplens);
    wire = Uint32Array.from(origlens);
    await writeBenchCapture(bigFile, { bytes: e2eMb * 1e6 });
    bigBytes = statSync(bigFile).size;
    // Program sizes are a property of the compilers, not a timing: printed
    // once, measured in a child process (bpf-lib-sizes.ts says why).
    const sizes = spawnSync(process.execPath, [join(here, 'bpf-lib-sizes.js')], { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 20 });
    if (sizes.status !== 0) throw new Error(`size measurement failed: ${sizes.stderr.toString()}`);
    // Compile time is measured warm, as a capture service compiling tenants'
    // filters all day sees it (V8 tiers hot code up over ~10^4 calls); the
    // first pass in this fresh process is printed too, for the one-shot CLI.
    process.stdout.write(`compile, first pass in a fresh process (V8 not yet warm): ${compilePass().toFixed(2)} µs/expr\n`);
    for (let i = 0; i < COMPILE_WARMUP_PASSES; i++) compilePass();
    process.stdout.write(sizes.stdout);
    process.stdout.write(`in-memory capture: ${String(base.length)} packets; end-to-end capture: ${(bigBytes / 1e6).toFixed(0)} MB\n`);
  };

  const moat = (): Figures => {
    const figs: Figures = {};
    const throughput = (prog: Program): number => {
      const fn = jitBased(prog);
      const drive = makeDriver();
      const t0 = process.hrtime.bigint();
      const accepted = drive(fn, mem, base, cap, wire, PASSES);
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      if (accepted === 0) throw new Error('the filter accepted nothing');
      return (base.length * PASSES) / s / 1e6;
    };
    BENCH_FILTERS.forEach((expr, i) => {
      figs[`Mpkt/s ${SHORT[i] ?? String(i)}`] = throughput(compileFilter(expr, { linktype: 1, optimize: true }));
      // The same JIT on libpcap's own -O program: the runtime alone, without our optimizer's part.
      figs[`Mpkt/s ${SHORT[i] ?? String(i)} (libpcap's program)`] = throughput(oracleCompile(1, expr, { optimize: true }));
    });
    // Five passes (~12,000 compiles, ~0.1 s): a collection landing in one
    // short pass would otherwise decide the figure; its cost is averaged in.
    let total = 0;
    for (let i = 0; i < COMPILE_PASSES; i++) total += compilePass();
    figs['compile µs/expr'] = total / COMPILE_PASSES;
    const e0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [bin, 'bpf', 'filter', '-r', bigFile, '-w', '/dev/null', 'tcp port 80'], { stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`moat bpf filter failed: ${r.stderr.toString()}`);
    figs['e2e MB/s'] = bigBytes / 1e6 / (Number(process.hrtime.bigint() - e0) / 1e9);
    return figs;
  };

  const libpcap = (): Figures => {
    const figs: Figures = {};
    BENCH_FILTERS.forEach((expr, i) => {
      const b = oracleBench(memFile, PASSES, expr);
      figs[`Mpkt/s ${SHORT[i] ?? String(i)}`] = b.packets / b.seconds / 1e6;
    });
    const times = oracleCompileTimes(1, COMPILE_ROUNDS, EXPRS).filter((t) => Number.isFinite(t));
    figs['compile µs/expr'] = (times.reduce((a, b) => a + b, 0) / times.length) * 1e6;
    const e0 = process.hrtime.bigint();
    const r = spawnSync('tcpdump', ['-r', bigFile, '-w', '/dev/null', 'tcp port 80'], { stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`tcpdump failed: ${r.stderr.toString()}`);
    figs['e2e MB/s'] = bigBytes / 1e6 / (Number(process.hrtime.bigint() - e0) / 1e9);
    return figs;
  };

  return {
    name: 'bpf',
    description: `filter throughput (Mpkt/s, higher is better), compile time (µs, lower is better), end to end on ${String(e2eMb)} MB (MB/s)`,
    rounds: 3,
    subjects: [
      { name: 'moat bpf (JIT)', setup, run: () => Promise.resolve(moat()), teardown: () => {
          rmSync(dir, { recursive: true, force: true });
          return Promise.resolve();
        },
      },
      { name: 'libpcap 1.10 / tcpdump', setup, run: () => Promise.resolve(libpcap()) },
    ],
  };
}
