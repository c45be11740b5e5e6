// moat net: one network spec rendered to FreeBSD, OpenBSD, NetBSD and Linux,
// lint rules for seed 000's pitfalls, and a DHCPv6 lease-timer check.
import { EX_OK, EX_USAGE, registerTool, type Io } from '../core/index.js';
import { dhcpv6Main } from './dhcpv6-command.js';
import { checkMain, renderMain } from './render-command.js';

export { netSpecSchema, type NetSpec, type GuestSpec, type TunnelSpec, type VpnSpec } from './spec-schema.js';
export { renderSpec, type RenderOptions } from './render.js';
export { TARGETS, type Target, type RenderedFile, type RenderResult } from './render-types.js';
export { ipCommands } from './render-linux.js';
export { parseFile, fileKind } from './lint-parse.js';
export { analyze } from './lint-analyze.js';
export { lintSpec } from './lint-spec.js';
export { RULES, formatFinding, type Finding, type RuleId } from './lint-rules.js';
export { parseDhcpv6, type Dhcpv6Message, type IdentityAssociation } from './dhcpv6-message.js';
export { dhcpv6FromFrame } from './dhcpv6-capture.js';
export { judgeIa, INFINITY, type Verdict } from './dhcpv6-verdict.js';

const USAGE = `usage: moat net render SPEC.yaml --os TARGET --out DIR [--release R] [--guest NAME]...
       moat net check SPEC.yaml... | moat net check --os TARGET FILE...
       moat net dhcpv6-check CAPTURE | --t1 N --t2 N --preferred N --valid N
  'moat net COMMAND --help' describes each command; see moat-net(8).
`;

export async function main(argv: readonly string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'render':
      return renderMain(rest, io);
    case 'check':
      return checkMain(rest, io);
    case 'dhcpv6-check':
      return dhcpv6Main(rest, io);
    case '--help':
    case '-h':
      io.stdout.write(USAGE);
      return EX_OK;
    default:
      io.stderr.write(sub === undefined ? USAGE : `moat net: unknown command '${sub}'; try 'moat net --help'\n`);
      return EX_USAGE;
  }
}


registerTool({ name: 'net', summary: 'render one network spec for FreeBSD, OpenBSD, NetBSD and Linux; lint it', manPage: 'moat-net(8)', main });
