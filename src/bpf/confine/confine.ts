// confine(user, options): one program equivalent to `jail ? user : reject`,
// spliced at the bytecode level, proved by the checker and validated before
// it is handed out. Joining filter TEXT instead is unsafe: `len >= 0) or
// (len >= 0` escapes brackets, and `vlan` in a user's filter shifts the
// offsets of the jail's tests (pcap-filter(7)); bytecode has neither problem.
import { MoatError } from '../../core/index.js';
import type { Insn, Program } from '../insn.js';
import { validate } from '../runtime/validator.js';
import { parseJailAddresses } from './addresses.js';
import { threadJumps } from './thread-jumps.js';
import { checkConfinement, type CheckResult } from './checker.js';
import { jailProgram } from './jail-program.js';
import { linkLayer } from './link-layers.js';
import type { ConfinePolicy } from './policy.js';

export interface ConfineOptions {
  /** The jail's IPv4 and IPv6 addresses (text). */
  addrs: readonly string[];
  /** Also let IPv4/IPv6 multicast destinations through (default true). */
  multicast?: boolean;
  /** Also let 255.255.255.255 and link-layer broadcast through (default true). */
  broadcast?: boolean;
  /** LINKTYPE_* of the capture. */
  linktype: number;
  /** Hold the result to FreeBSD's 512-instruction limit instead of Linux's 4096. */
  freebsd?: boolean;
}

function policyOf(o: ConfineOptions): ConfinePolicy {
  return { addrs: parseJailAddresses(o.addrs), multicast: o.multicast ?? true, broadcast: o.broadcast ?? true };
}

/** The jail alone: accepts exactly what the confinement allows (returns 262144). */
export function jailFilter(options: Omit<ConfineOptions, 'freebsd'>): Insn[] {
  const jail = jailProgram(linkLayer(options.linktype), policyOf(options));
  return threadJumps([...jail.place(jail.length, jail.length + 1), { code: 0x06, jt: 0, jf: 0, k: 262144 }, { code: 0x06, jt: 0, jf: 0, k: 0 }]);
}

/** Prove that `prog` never accepts a packet outside the confinement. */
export function checkConfined(prog: Program, options: Omit<ConfineOptions, 'freebsd'>): CheckResult {
  return checkConfinement(prog, linkLayer(options.linktype), policyOf(options));
}

/**
 * Splice: [jail][ld #0; ldx #0][user][ret #0]. The jail's accepting exits
 * jump to the `ld #0`, which restores the registers the user's program
 * starts with (bpf_filter starts with A = X = 0); its rejecting exits all
 * jump to the one shared `ret #0`. The user's jumps are relative and the
 * user's code moves as a block, so they need no change. A last pass
 * (thread-jumps.ts) sends jumps that land on a `ja` straight to its target
 * and drops instructions no path reaches, relocating the jumps that remain.
 */
export function confine(user: Program, options: ConfineOptions): Insn[] {
  const userProblems = validate(user, { protochain: false });
  if (userProblems[0] !== undefined) {
    throw new MoatError('MOAT_BPF_CONFINE_INVALID', `the filter cannot be confined: ${userProblems[0].message}`);
  }
  const link = linkLayer(options.linktype);
  const policy = policyOf(options);
  const jail = jailProgram(link, policy);
  const accept = jail.length;
  const reject = accept + 2 + user.length;
  const out: Insn[] = threadJumps([
    ...jail.place(accept, reject),
    { code: 0x00, jt: 0, jf: 0, k: 0 },
    { code: 0x01, jt: 0, jf: 0, k: 0 },
    ...user.map((i) => ({ ...i })),
    { code: 0x06, jt: 0, jf: 0, k: 0 },
  ]);
  const proof = checkConfinement(out, link, policy);
  if (!proof.ok) {
    throw new MoatError('MOAT_BPF_CONFINE_UNPROVEN', `refusing to emit a program the checker cannot prove confined: instruction ${String(proof.index)}: ${proof.reason}`);
  }
  const problems = validate(out, options.freebsd === true ? { freebsd: true } : {});
  if (problems[0] !== undefined) {
    throw new MoatError('MOAT_BPF_CONFINE_TOO_LONG', `the confined program is not valid: ${problems[0].message}`);
  }
  return out;
}
