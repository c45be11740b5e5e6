// Forwarding through the gateway with and without moat portal, for
// `npm run bench -- portal` (see bench/portal.ts): TCP streams from
// bench/portal-load.c, in pairs taken back to back.
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, type PortalLab } from '../test/helpers/portal-netns.js';
import { summarize, type Figures } from './harness.js';
import { stream } from './portal-lib-load.js';

const FORWARD_WARMUP_MS = 1000;
const FORWARD_MS = 4000;
const FORWARD_PAIRS = 4;
const STREAM_PORT = 9003;

/** The lab, the running daemon (its table in place, client 0 logged in), portal-load and the table's name. */
export interface ForwardLab {
  lab: PortalLab;
  daemon: ChildProcess | undefined;
  load: string;
  table: string;
}

/**
 * Forwarding with and without the portal, in FORWARD_PAIRS pairs taken back
 * to back (ABBA order), so both halves of a pair see the same machine. "With"
 * is moat's table as the daemon left it, 1,000 sessions and ours (the daemon
 * itself is stopped with SIGSTOP meanwhile: it never touches a forwarded
 * packet, and its idle cost is a figure of its own); "without" is the same
 * namespaces with the table deleted, so no rule and no conntrack. The table
 * comes back from `nft list table` (element counters restart at zero).
 */
export interface ForwardPairs {
  /** Mbit/s with and without the portal, and with/without of each pair. */
  with: number[];
  without: number[];
  ratios: number[];
  /** CPU ms per GB with and without, and with/without of each pair. */
  costWith: number[];
  costWithout: number[];
  costRatios: number[];
}

export async function forwardPairs(w: ForwardLab): Promise<ForwardPairs> {
  const d = w.daemon;
  if (d === undefined) throw new Error('no daemon');
  const nft = (args: string[], input?: string): string => {
    const r = run(w.lab.inNs(w.lab.gw, ['nft', ...args]), 20_000, input);
    if (r.status !== 0) throw new Error(`nft ${args.join(' ')}: ${r.stderr.trim()}`);
    return r.stdout;
  };
  d.kill('SIGSTOP');
  const saved = nft(['list', 'table', 'inet', w.table]);
  let present = true;
  const out: ForwardPairs = { with: [], without: [], ratios: [], costWith: [], costWithout: [], costRatios: [] };
  try {
    // Not counted: the first stream after a pause ran up to 40% faster than
    // the rest in runs on a shared VM, and it would always be a "with".
    await stream(w.load, w.lab.wan, w.lab.clients[0] ?? '', STREAM_PORT, FORWARD_WARMUP_MS, FORWARD_MS);
    for (let k = 0; k < FORWARD_PAIRS; k++) {
      const pair = new Map<boolean, { mbps: number; cost: number }>();
      for (const portal of k % 2 === 0 ? [true, false] : [false, true]) {
        if (portal && !present) nft(['-f', '-'], saved);
        if (!portal && present) nft(['delete', 'table', 'inet', w.table]);
        present = portal;
        const r = await stream(w.load, w.lab.wan, w.lab.clients[0] ?? '', STREAM_PORT, FORWARD_WARMUP_MS, FORWARD_MS);
        pair.set(portal, { mbps: r.mbps, cost: r.cpuMsPerGB });
        (portal ? out.with : out.without).push(r.mbps);
        (portal ? out.costWith : out.costWithout).push(r.cpuMsPerGB);
      }
      const a = pair.get(true);
      const b = pair.get(false);
      out.ratios.push((a?.mbps ?? NaN) / (b?.mbps ?? NaN));
      out.costRatios.push((a?.cost ?? NaN) / (b?.cost ?? NaN));
    }
  } finally {
    if (!present) nft(['-f', '-'], saved);
    d.kill('SIGCONT');
  }
  return out;
}

/** The pairs' medians, and the spread of their ratios; every pair in bench/results/portal-forward.json. */
export function forwardFigures(f: ForwardPairs, results: string): Figures {
  mkdirSync(results, { recursive: true });
  writeFileSync(join(results, 'portal-forward.json'), `${JSON.stringify(f)}\n`);
  const out: Figures = {
    'forward Mbit/s': summarize(f.with).median,
    'forward Mbit/s, no portal': summarize(f.without).median,
    'forward CPU ms/GB': summarize(f.costWith).median,
    'forward CPU ms/GB, no portal': summarize(f.costWithout).median,
  };
  for (const [name, list] of [['forward ratio', f.ratios], ['forward cost ratio', f.costRatios]] as const) {
    const r = summarize(list);
    Object.assign(out, { [`${name}, pairs median`]: r.median, [`${name}, pairs min`]: r.min, [`${name}, pairs max`]: r.max });
  }
  return out;
}

