// The table of tools: the only list of them. `moat --help`, the CLI tests
// and the man-page checks all read it. Each row's loader imports the tool
// only when it is asked for, so `moat --help`, `--version` and a daemon do
// not pay for the other tools. Literal paths, so the single-executable
// bundle (esbuild) still sees and includes every tool. Kept sorted.
import type { ToolTable } from '../src/core/index.js';

export const TOOLS: ToolTable = [
  {
    name: 'bpf',
    summary: 'pcap-filter compiler, BPF interpreter and JIT, capture filtering, confinement',
    manPage: 'moat-bpf(8)',
    load: async () => (await import('../src/bpf/index.js')).main,
  },
  {
    name: 'finger',
    summary: 'a hardened RFC 1288 finger service',
    manPage: 'moat-finger(8)',
    load: async () => (await import('../src/finger/index.js')).main,
  },
  {
    name: 'ifstated',
    summary: 'interface state daemon compatible with OpenBSD ifstated',
    manPage: 'moat-ifstated(8)',
    load: async () => (await import('../src/ifstated/index.js')).main,
  },
  {
    name: 'jail',
    summary: 'render an OS-less jail deployment for FreeBSD and Linux',
    manPage: 'moat-jail(8)',
    load: async () => (await import('../src/jail/index.js')).main,
  },
  {
    name: 'net',
    summary: 'render one network spec for FreeBSD, OpenBSD, NetBSD and Linux; lint it',
    manPage: 'moat-net(8)',
    load: async () => (await import('../src/net/index.js')).main,
  },
  {
    name: 'portal',
    summary: 'a captive portal with RADIUS on nftables and PF',
    manPage: 'moat-portal(8)',
    load: async () => (await import('../src/portal/index.js')).main,
  },
  {
    name: 'root',
    summary: 'minimal roots from ELF library closures; a safe ldd',
    manPage: 'moat-root(8)',
    load: async () => (await import('../src/root/index.js')).main,
  },
];
