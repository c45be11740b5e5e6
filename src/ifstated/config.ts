/**
 * Load and check a config the way parse_config() does after yyparse(): link
 * every set-state to a declared state, find the start state, and look up
 * interfaces. Two deliberate differences from OpenBSD, both undone by
 * --strict: a missing final newline is accepted (in the lexer), and an
 * interface that does not exist yet is a warning, not an error.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { MoatError, SourceSyntaxError, closest, errnoReason } from '../core/index.js';
import { walkActions, terms, type Action, type Config } from './ast.js';
import { parseConfig, type Diagnostic, type ParseOptions } from './parser.js';

export interface LoadOptions extends ParseOptions {
  /** Does this interface exist here? Default: /sys/class/net on Linux, getifaddrs elsewhere. */
  interfaceExists?: (name: string) => boolean;
}

export interface Loaded {
  config: Config;
  diagnostics: Diagnostic[];
  /** True when there is at least one error (the config must not be used). */
  failed: boolean;
}

/** Is there an interface by this name on this host? */
export function hostInterfaceExists(name: string): boolean {
  if (process.platform === 'linux') return !name.includes('/') && name !== '.' && name !== '..' && existsSync(`/sys/class/net/${name}`);
  return Object.hasOwn(networkInterfaces(), name);
}

export function checkConfigText(source: string, options: LoadOptions): Loaded {
  const { config, diagnostics, brokenSetStates } = parseConfig(source, options);
  const names = new Set(config.states.map((s) => s.name));
  const strict = options.strict === true;
  const exists = options.interfaceExists ?? hostInterfaceExists;

  // link_states(): every set-state must name a declared state.
  const lists: Action[][] = [config.global, ...config.states.flatMap((s) => [s.init, s.body])];
  for (const list of lists) {
    for (const { action } of walkActions(list)) {
      if (action.kind === 'set-state' && !names.has(action.target)) {
        const d: Diagnostic = { message: `state '${action.target}' not declared`, offset: action.offset, length: action.target.length, severity: 'error', code: 'MOAT_IFSTATED_UNDECLARED_STATE' };
        const near = closest(action.target, names);
        if (near !== undefined) d.hint = `did you mean \`${near}\``;
        diagnostics.push(d);
      }
    }
  }
  // `set-state all working`: a syntax error whose words, joined, name a state.
  for (const b of brokenSetStates) {
    const joined = b.words.join('');
    const near = names.has(joined) ? joined : closest(joined, names);
    const d = diagnostics.find((x) => x.code === 'MOAT_IFSTATED_SYNTAX' && x.offset >= b.offset && x.offset < b.offset + b.length);
    if (d !== undefined && near !== undefined) d.hint = `did you mean \`${near}\``;
  }
  if (config.initState !== undefined && !names.has(config.initState.name)) {
    const d: Diagnostic = { message: `invalid start state ${config.initState.name}`, offset: config.initState.offset, length: config.initState.name.length, severity: 'error', code: 'MOAT_IFSTATED_INIT_STATE' };
    const near = closest(config.initState.name, names);
    if (near !== undefined) d.hint = `did you mean \`${near}\``;
    diagnostics.push(d);
  }
  // parse.y's `interface` rule: if_nametoindex() must know the name.
  const seen = new Set<string>();
  for (const list of lists) {
    for (const { action } of walkActions(list)) {
      if (action.kind !== 'if') continue;
      for (const t of terms(action.condition)) {
        if (t.kind !== 'link' || seen.has(t.ifname)) continue;
        seen.add(t.ifname);
        if (!exists(t.ifname)) {
          diagnostics.push({ message: `unknown interface ${t.ifname}`, offset: t.offset, length: t.ifname.length, severity: strict ? 'error' : 'warning', code: 'MOAT_IFSTATED_UNKNOWN_INTERFACE' });
        }
      }
    }
  }
  // Parse errors come first in source order, then these, as parse_config() prints them.
  return { config, diagnostics, failed: diagnostics.some((d) => d.severity === 'error') };
}

export async function loadConfigFile(file: string, options: Omit<LoadOptions, 'file'>): Promise<Loaded> {
  let source: string;
  try {
    source = await readFile(file, 'utf8');
  } catch (e) {
    const why = errnoReason(e);
    throw new MoatError('MOAT_IFSTATED_READ', `cannot read ${file}: ${why}`, { cause: e });
  }
  return checkConfigText(source, { ...options, file });
}

/** `file:line:col: message`, the line and a caret; warnings say so. */
export function formatDiagnostic(d: Diagnostic, config: Pick<Config, 'file' | 'source'>): string {
  const prefix = d.severity === 'warning' ? 'warning: ' : '';
  const text = SourceSyntaxError.at(`${prefix}${d.message}${d.hint === undefined ? '' : `; ${d.hint}`}`, config.file, config.source, d.offset, d.length, d.code).format();
  return text;
}

/** The first error as a throwable SourceSyntaxError (for callers that stop at one). */
export function firstError(loaded: Loaded): SourceSyntaxError | undefined {
  const d = loaded.diagnostics.find((x) => x.severity === 'error');
  if (d === undefined) return undefined;
  return SourceSyntaxError.at(d.message, loaded.config.file, loaded.config.source, d.offset, d.length, d.code);
}
