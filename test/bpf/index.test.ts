// `moat bpf --help`: one synopsis that names every option of every subcommand.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../../src/bpf/index.js';
import { captureIo } from '../helpers/io.js';

async function help(...argv: string[]): Promise<string> {
  const io = captureIo();
  assert.equal(await main([...argv, '--help'], io), 0);
  return io.out();
}

describe('moat bpf --help', () => {
  it('lists every option each subcommand documents, on one screen', async () => {
    const top = await help();
    assert.ok(top.split('\n').length <= 24);
    for (const sub of ['compile', 'filter', 'confine']) {
      const own = await help(sub);
      // The options a subcommand's own help describes: its indented first words.
      const options = [...own.matchAll(/^ {2}(-[\w-]+)(?:, (-[\w-]+))?/gm)].flatMap((m) => [m[1], m[2]]).filter((o): o is string => o !== undefined);
      assert.ok(options.length >= 4, `${sub}: ${own}`);
      const synopsis = top.split('\n').filter((l) => !l.startsWith('-O:'));
      const lines = synopsis.slice(synopsis.findIndex((l) => l.includes(`moat bpf ${sub}`)));
      const block = lines.slice(0, 1 + lines.slice(1).findIndex((l) => l.includes('moat bpf'))).join('\n') || lines.join('\n');
      for (const o of options) {
        // -On in the synopsis stands for -O and -n, as in BSD manuals.
        const short = /^-[a-zA-Z]$/.test(o) ? new RegExp(`\\[-[a-zA-Z]*${o.slice(1)}[a-zA-Z]*\\]|${o}\\b`) : new RegExp(`${o}(?![\\w-])`);
        assert.match(block, short, `${sub}: ${o} is missing from moat bpf --help`);
      }
    }
  });
});
