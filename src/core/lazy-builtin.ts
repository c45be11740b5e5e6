// Node built-ins that only some commands use, loaded on their first use
// rather than when core is imported: every `moat` invocation imports core,
// and loading node:dgram, node:net and node:crypto up front cost ~5 ms of a
// ~35 ms start (measured on `moat --version` from the single executable).
// A tool whose commands need one only sometimes uses these too.
import { createRequire } from 'node:module';
import type * as ChildProcess from 'node:child_process';
import type * as Crypto from 'node:crypto';
import type * as Dgram from 'node:dgram';
import type * as Net from 'node:net';

// A built-in resolves the same from any base path; createRequire wants an
// absolute one, and the single-executable bundle has no import.meta.url.
const requireBuiltin = createRequire('/');

export const lazyChildProcess = (): typeof ChildProcess => requireBuiltin('node:child_process') as typeof ChildProcess;
export const lazyCrypto = (): typeof Crypto => requireBuiltin('node:crypto') as typeof Crypto;
export const lazyDgram = (): typeof Dgram => requireBuiltin('node:dgram') as typeof Dgram;
export const lazyNet = (): typeof Net => requireBuiltin('node:net') as typeof Net;
