import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One figure from one run, e.g. `{ 'conn/s': 10234, 'p99 ms': 1.2 }`. */
export type Figures = Record<string, number>;

/** A thing being measured: moat, or a peer run the same way in the same run. */
export interface Subject {
  name: string;
  /** Called once before the first round. */
  setup?: () => Promise<void>;
  /** One measurement. */
  run: () => Promise<Figures>;
  /** Called once after the last round, even on failure. */
  teardown?: () => Promise<void>;
}

export interface Benchmark {
  name: string;
  description: string;
  /** Rounds; subjects alternate within each round so drift hits all alike. */
  rounds: number;
  /** The first subject is moat; every other is a peer it is compared with. */
  subjects: Subject[];
  /** Called once after every subject's teardown, whatever happened (temp dirs). */
  cleanup?: () => Promise<void> | void;
}

export interface Summary {
  median: number;
  min: number;
  max: number;
  samples: number[];
}

export function summarize(samples: number[]): Summary {
  const s = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length === 0 ? NaN : s.length % 2 === 1 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
  return { median, min: s[0] ?? NaN, max: s[s.length - 1] ?? NaN, samples };
}

export interface Result {
  benchmark: string;
  date: string;
  node: string;
  rounds: number;
  subjects: Record<string, Record<string, Summary>>;
  /** ratio[peer][figure] = median(moat) / median(peer). */
  ratio: Record<string, Record<string, number>>;
}

const resultsDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'results');

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 100) return n.toFixed(0);
  if (Math.abs(n) >= 1) return n.toFixed(2);
  return n.toPrecision(3);
}

/** Run a benchmark, print a table and write bench/results/<name>.json. */
export async function runBenchmark(b: Benchmark, out: NodeJS.WritableStream = process.stdout): Promise<Result> {
  const raw = new Map<string, Map<string, number[]>>();
  for (const s of b.subjects) raw.set(s.name, new Map());
  try {
    for (const s of b.subjects) await s.setup?.();
    for (let round = 0; round < b.rounds; round++) {
      // Alternate the order each round so neither side always goes first.
      const order = round % 2 === 0 ? b.subjects : [...b.subjects].reverse();
      for (const s of order) {
        const figures = await s.run();
        const m = raw.get(s.name);
        for (const [k, v] of Object.entries(figures)) {
          const list = m?.get(k) ?? [];
          list.push(v);
          m?.set(k, list);
        }
      }
      out.write(`round ${String(round + 1)}/${String(b.rounds)} done\n`);
    }
  } finally {
    for (const s of b.subjects) await s.teardown?.();
    await b.cleanup?.();
  }
  const subjects: Result['subjects'] = {};
  for (const [name, m] of raw) {
    subjects[name] = Object.fromEntries([...m].map(([k, v]) => [k, summarize(v)]));
  }
  const [moat, ...peers] = b.subjects;
  const ratio: Result['ratio'] = {};
  for (const p of peers) {
    const r: Record<string, number> = {};
    for (const [k, sum] of Object.entries(subjects[moat?.name ?? ''] ?? {})) {
      const other = subjects[p.name]?.[k];
      if (other !== undefined) r[k] = sum.median / other.median;
    }
    ratio[p.name] = r;
  }
  const result: Result = { benchmark: b.name, date: new Date().toISOString(), node: process.version, rounds: b.rounds, subjects, ratio };
  out.write(`\n${b.name}: ${b.description} (${String(b.rounds)} rounds)\n`);
  for (const [name, figs] of Object.entries(subjects)) {
    for (const [k, s] of Object.entries(figs)) {
      out.write(`  ${name.padEnd(22)} ${k.padEnd(24)} median ${fmt(s.median).padStart(10)}  min ${fmt(s.min).padStart(10)}  max ${fmt(s.max).padStart(10)}\n`);
    }
  }
  for (const [peer, figs] of Object.entries(ratio)) {
    for (const [k, r] of Object.entries(figs)) out.write(`  ratio ${moat?.name ?? ''}/${peer} ${k}: ${r.toFixed(3)}\n`);
  }
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, `${b.name}.json`), `${JSON.stringify(result, null, 2)}\n`);
  out.write(`results: bench/results/${b.name}.json\n`);
  return result;
}
