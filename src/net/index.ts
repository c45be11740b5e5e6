// moat net: one network spec rendered to FreeBSD, OpenBSD, NetBSD and Linux,
// lint rules for seed 000's pitfalls, and a DHCPv6 lease-timer check.
import { subcommandMain } from '../core/index.js';
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

export const main = subcommandMain('net', USAGE, { render: renderMain, check: checkMain, 'dhcpv6-check': dhcpv6Main });
