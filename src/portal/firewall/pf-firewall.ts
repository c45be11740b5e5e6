// placeholder, replaced below
import type { CommandRunner } from './command-runner.js';
import type { FirewallLogger, Firewall } from './types.js';
export interface PfOptions { table: string; runner: CommandRunner; pfctl: string; logger: FirewallLogger | undefined }
export function renderPfAnchor(): string { return ''; }
export function pfArgv(): string[] { return []; }
export class PfFirewall implements Firewall {
  constructor(readonly o: PfOptions) {}
  setup(): Promise<void> { return Promise.reject(new Error('todo')); }
  authorize(): Promise<void> { return Promise.reject(new Error('todo')); }
  deauthorize(): Promise<void> { return Promise.reject(new Error('todo')); }
  setLimits(): Promise<void> { return Promise.reject(new Error('todo')); }
  counters(): Promise<Map<string, never>> { return Promise.reject(new Error('todo')); }
  authorized(): Promise<never[]> { return Promise.reject(new Error('todo')); }
  close(): Promise<void> { return Promise.reject(new Error('todo')); }
  teardown(): Promise<void> { return Promise.reject(new Error('todo')); }
}
