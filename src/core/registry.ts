import type { CommandMain } from './io.js';

/**
 * A tool as `moat <name>` knows it: one row of the table in bin/tools.ts,
 * the only list of tools. The loader imports the tool only when it is asked
 * for, so `moat --help` and `moat --version` load none of them.
 */
export interface ToolEntry {
  readonly name: string;
  /** One line for `moat --help`. */
  readonly summary: string;
  /** The man page that documents it, such as `moat-finger(8)`. */
  readonly manPage: string;
  /** Import the tool and hand back its `main`. */
  readonly load: () => Promise<CommandMain>;
}

export type ToolTable = readonly ToolEntry[];

/** The row named `name`, if any (own rows only: `constructor` is no tool). */
export function findTool(tools: ToolTable, name: string): ToolEntry | undefined {
  return tools.find((t) => t.name === name);
}
