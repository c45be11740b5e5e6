import type { CommandMain } from './io.js';

/** A tool as `moat <name>` knows it. */
export interface ToolEntry {
  readonly name: string;
  /** One line for `moat --help`. */
  readonly summary: string;
  /** The man page that documents it, such as `moat-finger(8)`. */
  readonly manPage: string;
  readonly main: CommandMain;
}

const tools = new Map<string, ToolEntry>();

/**
 * Each tool's index.ts calls this once, so adding a tool touches no other tool.
 * Registering a name twice is a programming error.
 */
export function registerTool(entry: ToolEntry): void {
  if (tools.has(entry.name)) throw new Error(`tool ${entry.name} registered twice`);
  tools.set(entry.name, entry);
}

export function findTool(name: string): ToolEntry | undefined {
  return tools.get(name);
}

/** Registered tools in name order. */
export function listTools(): ToolEntry[] {
  return [...tools.values()].sort((a, b) => a.name.localeCompare(b.name));
}
