// The public face of core: what every tool shares.
export * from './exit-codes.js';
export * from './errors.js';
export * from './syntax-error.js';
export * from './io.js';
export * from './registry.js';
export * from './subcommands.js';
export * from './args.js';
export * from './cli-main.js';
export * from './syslog-format.js';
export * from './syslog-transport.js';
export * from './logger.js';
export * from './status-line.js';
export * from './progress.js';
export * from './atomic-write.js';
export * from './lazy-builtin.js';
export * from './pcap/index.js';
export * from './native.js';
