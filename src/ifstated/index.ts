// moat ifstated: OpenBSD's ifstated for Linux and BSD, for multi-WAN failover.

export { main } from './cli.js';
export type * from './ast.js';
export { parseConfig, type Diagnostic, type ParseOptions, type ParseResult } from './parser.js';
export { checkConfigText, loadConfigFile, formatDiagnostic, type Loaded } from './config.js';
export { analyse, checkText, stateEdges } from './check.js';
export { Machine, type LinkState, type MachineHooks, type TestSpec } from './machine.js';
export { simulate } from './simulate.js';
export { toDot, dotToSvg } from './graph.js';
export { generateMultiwan } from './multiwan.js';
export type { MultiwanSpec } from './multiwan-spec.js';
export { Daemon, type DaemonOptions } from './daemon.js';
export { commandArgv, runCommand } from './command-runner.js';
export { parseIpMonitorLine, operstateToLink, LinuxLinkMonitor } from './linux-link-monitor.js';
export { parseIfconfig, parseRouteMonitorLine, BsdLinkMonitor } from './bsd-link-monitor.js';
export { exprText, exprTree, actionsTree } from './render.js';
