// moat bpf compiler: pcap-filter(7) expressions → classic BPF, with
// libpcap's unoptimized semantics (per-packet verdicts and snap lengths).
//
// Which libpcap: code generation follows Debian 12's libpcap 1.10.3, the
// oracle our tests and CI run against (so `moat bpf compile -d` matches
// `tcpdump -d -O` there), and error wording follows libpcap master, whose
// reject tests we run. Where the two differ in behaviour we follow 1.10.3,
// because that is what runs under CI and what users of Debian 12 get:
//  - `ip6` on NULL/LOOP/PFLOG tests the compiling host's AF_INET6 (10 on
//    Linux), not master's three BSD values, unless compiling for a capture
//    file (`savefile`), where 1.10.3 also tests the three BSD values;
//  - `link proto N` above 255 on Ethernet is accepted (master refuses);
//  - `a == b` compiles as `sub x; jeq #0` (master: `jeq x`; same verdicts).
// Deliberate departures from 1.10.3, each a bug there, where we do what
// libpcap master and pcap-filter(7) say:
//  - `byte N & V` / `byte N | V` load the byte first (1.10.3 tests stale A);
//  - inbound/outbound/ifindex on Ethernet are refused ("not a live capture"),
//    where 1.10.3 emits Linux-only metadata loads that no savefile has;
//  - the pflog action names of master's table are all accepted;
//  - DECnet addresses beyond area 63 / node 1023 and `decnet net` are
//    refused, as in master (1.10.3 silently truncates them).
//  - `geneve` on pflog or an 802.11 radio link type: 1.10.3 computes the
//    variable header length into the Geneve payload's register (its
//    program then reads an unset register); we keep them apart;
//  - 802.11 `type`/`subtype`/`dir` on PPI are accepted, as in master
//    (1.10.3 refuses them there though it accepts them on radiotap);
//  - the 802.11 control subtypes `bar` and `ba` of master are known;
//  - `vxlan` is compiled as master compiles it (gen_vxlan; 1.10.3 has no
//    vxlan), checked against master's accept and apply tests.
// One departure from every libpcap, master included: arithmetic keeps the
// protocol checks of both operands. gen_arth in 1.10.3 and in master keeps
// only the left operand's, so `ip[0] + tcp[0] = 1` loads tcp[0] from UDP
// packets and from non-first fragments; pcap-filter(7) says `tcp[...]` is
// only about TCP. We AND in the right operand's checks too (moat-bpf(8),
// CAVEATS, shows an example), once: where the left operand makes each of
// them already (`ip[2:2] - ((ip[0]&0xf)<<2)`), the program is libpcap's.
// Our optimizer never removes a load that could fall off the packet, so it
// keeps libpcap's unoptimized verdict on truncated packets where libpcap's
// optimizer does not.
import os from 'node:os';
import type { Program } from '../insn.js';
import type { Clause } from './block.js';
import { generate } from './codegen.js';
import { syntaxError } from './errors.js';
import { PCAP_NETMASK_UNKNOWN } from './gen.js';
import { linearLength, linearize } from './linearize.js';
import { normalizeLinktype } from './linktypes.js';
import { FileNameDb, type NameDb } from './names.js';
import { order } from './opt-blocks.js';
import { beyondLibpcap, usedBeyondLibpcap } from './beyond-libpcap.js';
import { optimizeGraphAgainst } from './optimize.js';
import { parseFilter } from './parser.js';

export { DLT, SUPPORTED_LINKTYPES, UnsupportedLinktypeError, linktypeByName, linktypeName, linktypeDescription, normalizeLinktype } from './linktypes.js';
export { PCAP_NETMASK_UNKNOWN } from './gen.js';
export type { Clause } from './block.js';
export { FileNameDb, type NameDb } from './names.js';

export interface CompileOptions {
  /** DLT_ value (or LINKTYPE_ value from a capture file). */
  linktype: number;
  /** Returned for accepted packets; default 262144 as tcpdump's. */
  snaplen?: number;
  /** IPv4 netmask for `ip broadcast`; default unknown (as PCAP_NETMASK_UNKNOWN). */
  netmask?: number;
  /** Run the optimizer (like tcpdump without -O). Default false. */
  optimize?: boolean;
  /** Look up host, service, protocol and network names in /etc. Default true. */
  resolveNames?: boolean;
  /** Name databases (tests); default the files under /etc. */
  names?: NameDb;
  /**
   * Compile for packets of a capture file, as libpcap does for a savefile
   * (pcap_offline_filter): `ip6` on NULL/LOOP then matches the AF_INET6
   * values of all BSDs (24, 28, 30), and NULL's AF word is taken in the
   * file's byte order (`swapped`: the file's is not this host's). Without
   * it, the host's own values are used, as for a live capture.
   */
  savefile?: { swapped: boolean };
}

export interface CompiledExpression {
  program: Program;
  /** The expression clause each instruction came from (undefined for returns). */
  clauses: readonly (Clause | undefined)[];
  optimized: boolean;
}

export const DEFAULT_SNAPLEN = 262144;

let defaultNames: NameDb | null = null;

/** The compiling host's byte order (NULL/LOOP's AF word is in it): fixed for the process. */
const LITTLE_ENDIAN_HOST = os.endianness() === 'LE';

let overflowMessage: string | null | undefined;

/**
 * Is this the JavaScript stack running out? V8 gives that RangeError no code
 * of its own, so the message is compared with the one a recursion without
 * end gets here (found once, on the first RangeError). Any other RangeError
 * is a bug and stays one.
 */
function isStackOverflow(e: unknown): boolean {
  if (!(e instanceof RangeError)) return false;
  if (overflowMessage === undefined) {
    const deeper = (n: number): number => deeper(n + 1) + 1;
    try {
      deeper(0);
      overflowMessage = null;
    } catch (probe) {
      overflowMessage = probe instanceof RangeError ? probe.message : null;
    }
  }
  return e.message === overflowMessage;
}

/** Compile with per-instruction provenance (for --explain and --dot). */
export function compileFilterDetailed(expr: string, opts: CompileOptions): CompiledExpression {
  try {
    return compileUnguarded(expr, opts);
  } catch (e) {
    // Nesting is bounded by the parser (TokenStream.MAX_DEPTH, with the place
    // it was exceeded); a very long arithmetic chain can still exhaust the
    // JavaScript stack in code generation: report that like any bad input.
    if (isStackOverflow(e)) throw syntaxError('expression too complex (nested too deeply)', expr, 0, Math.max(1, expr.length));
    throw e;
  }
}

function compileUnguarded(expr: string, opts: CompileOptions): CompiledExpression {
  const parsed = parseFilter(expr);
  const names = opts.resolveNames === false ? null : (opts.names ?? (defaultNames ??= new FileNameDb()));
  const genOpts = {
    linktype: normalizeLinktype(opts.linktype),
    snaplen: (opts.snaplen ?? DEFAULT_SNAPLEN) >>> 0,
    netmask: (opts.netmask ?? PCAP_NETMASK_UNKNOWN) >>> 0,
    names,
    littleEndianHost: LITTLE_ENDIAN_HOST,
    savefile: opts.savefile,
  };
  const gen = generate(expr, parsed.node, genOpts);
  if (opts.optimize !== true || gen.noOptimize) {
    const linear = linearize(gen.root);
    return { program: linear.insns, clauses: linear.clauses, optimized: false };
  }
  // The optimizer keeps the unoptimized program when its own is longer. That
  // program is only laid out when needed: its length is known without it
  // (for all but long programs), and the optimizer works on the generator's
  // graph in place, so the rare plain result is generated afresh (generation
  // is deterministic, and leaves the parse tree as it found it) rather than
  // laid out ahead on every compile.
  // The optimizer's first walk over the graph serves for that length too.
  const all = order(gen.root);
  beyondLibpcap(true);
  const known = linearLength(all);
  // On the generator's own graph: the laid-out program may already hold
  // long-jump `ja`s that a rebuilt graph would not survive.
  const plain = known === null ? linearize(gen.root) : null;
  let linear = optimizeGraphAgainst(gen.root, known ?? plain?.insns.length ?? 0, all) ??
    plain ?? linearize(generate(expr, parsed.node, genOpts).root);
  if (linear.insns.length === 1 && linear.insns[0]?.k === 0 && usedBeyondLibpcap()) {
    // Perhaps proved so by what libpcap's optimizer does not look at (beyond-libpcap.ts): as libpcap would, without.
    const again = generate(expr, parsed.node, genOpts);
    beyondLibpcap(false);
    try {
      linear = optimizeGraphAgainst(again.root, known ?? plain?.insns.length ?? 0) ?? plain ?? linearize(generate(expr, parsed.node, genOpts).root);
    } finally {
      beyondLibpcap(true);
    }
  }
  const first = linear.insns[0];
  if (linear.insns.length === 1 && first?.k === 0) {
    throw syntaxError('expression rejects all packets', expr, 0, Math.max(1, expr.length));
  }
  return { program: linear.insns, clauses: linear.clauses, optimized: true };
}

/** Compile a pcap-filter(7) expression. Throws SourceSyntaxError. */
export function compileFilter(expr: string, opts: CompileOptions): Program {
  return compileFilterDetailed(expr, opts).program;
}


