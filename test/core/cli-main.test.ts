import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MoatError, parseCommandLine, runCli, SourceSyntaxError, intOption, subcommandMain, type CommandMain, type ToolEntry } from '../../src/core/index.js';
import { TOOLS } from '../../bin/tools.js';
import { captureIo } from '../helpers/io.js';

const echo: CommandMain = (argv, io) => {
  const { values, positionals } = parseCommandLine('moat zz-echo', argv, { loud: { type: 'boolean' }, n: { type: 'string' } });
  const n = intOption('moat zz-echo', 'n', values.n, 1, { min: 1, max: 3 });
  if (positionals[0] === 'syntax') throw SourceSyntaxError.at('bad token', 'f.conf', 'a b c', 2);
  if (positionals[0] === 'moat') throw new MoatError('MOAT_ROOT_RUN', 'it failed');
  if (positionals[0] === 'bug') throw new TypeError('oops');
  const text = positionals.join(' ').repeat(n);
  io.stdout.write(`${values.loud === true ? text.toUpperCase() : text}\n`);
  return Promise.resolve(0);
};

const tools: ToolEntry[] = [{ name: 'zz-echo', summary: 'test tool that echoes its arguments', manPage: 'moat(1)', load: () => Promise.resolve(echo) }];
const info = { version: '9.9.9', tools };

test('moat --help lists every registered tool with its summary', async () => {
  const io = captureIo();
  assert.equal(await runCli(['--help'], io, info), 0);
  assert.match(io.out(), /zz-echo\s+test tool that echoes its arguments/);
});

test('an unknown tool exits 64 with one line naming it', async () => {
  const io = captureIo();
  assert.equal(await runCli(['nosuch'], io, info), 64);
  assert.equal(io.err(), "moat: unknown tool 'nosuch'; try 'moat --help'\n");
});

test('an unknown option exits 64 with one line naming it and the tool help', async () => {
  const io = captureIo();
  assert.equal(await runCli(['zz-echo', '--frob'], io, info), 64);
  assert.equal(io.err(), "moat zz-echo: unknown option '--frob'; try 'moat zz-echo --help'\n");
  const io2 = captureIo();
  assert.equal(await runCli(['--frob'], io2, info), 64);
  assert.equal(io2.err().split('\n').length, 2);
});

test('a bad number is a usage error naming the option', async () => {
  const io = captureIo();
  assert.equal(await runCli(['zz-echo', '--n', '7', 'x'], io, info), 64);
  assert.match(io.err(), /--n must be in 1\.\.3, not 7/);
});

test('tools run in-process with their arguments', async () => {
  const io = captureIo();
  assert.equal(await runCli(['zz-echo', '--loud', 'hi', 'there'], io, info), 0);
  assert.equal(io.out(), 'HI THERE\n');
});

test('errors become messages and exit codes, never stacks', async () => {
  let io = captureIo();
  assert.equal(await runCli(['zz-echo', 'syntax'], io, info), 65);
  assert.equal(io.err(), 'f.conf:1:3: bad token\na b c\n  ^\n');
  io = captureIo();
  assert.equal(await runCli(['zz-echo', 'moat'], io, info), 69);
  assert.equal(io.err(), 'moat zz-echo: it failed\n');
  io = captureIo();
  assert.equal(await runCli(['zz-echo', 'bug'], io, info), 70);
  assert.equal(io.err(), 'moat zz-echo: internal error: oops\n');
});

test('--version prints the package version', async () => {
  const io = captureIo();
  assert.equal(await runCli(['--version'], io, info), 0);
  assert.equal(io.out(), 'moat 9.9.9\n');
});

test('the built CLI exits 64 for an unknown tool and 0 for --help', () => {
  const bin = fileURLToPath(new URL('../../bin/moat.js', import.meta.url));
  const bad = spawnSync(process.execPath, [bin, 'nosuch'], { encoding: 'utf8' });
  assert.equal(bad.status, 64);
  assert.equal(bad.stderr, "moat: unknown tool 'nosuch'; try 'moat --help'\n");
  const help = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /^usage: moat <tool>/);
  assert.ok(help.stdout.split('\n').length <= 24, 'moat --help fits on one screen');
  // The entry loads only the tool asked for, so --help must still list them all,
  // and each tool must load on its own.
  for (const { name } of TOOLS) {
    assert.match(help.stdout, new RegExp(`^  ${name} +\\S`, 'm'), `moat --help lists ${name}`);
    const one = spawnSync(process.execPath, [bin, name, '--help'], { encoding: 'utf8' });
    assert.equal(one.status, 0, `moat ${name} --help: ${one.stderr}`);
    assert.match(one.stdout, new RegExp(`moat ${name}`));
  }
  const ver = spawnSync(process.execPath, [bin, '--version'], { encoding: 'utf8' });
  assert.match(ver.stdout, /^moat \d+\.\d+\.\d+\n$/);
});

test('a tool with subcommands answers help, a missing command and an unknown one the same way', async () => {
  const calls: string[][] = [];
  const sub = subcommandMain('zz-sub', 'usage: moat zz-sub go ARGS\n', {
    go: (argv) => {
      calls.push([...argv]);
      return Promise.resolve(0);
    },
  });
  tools.push({ name: 'zz-sub', summary: 'test tool with subcommands', manPage: 'moat(1)', load: () => Promise.resolve(sub) });
  let io = captureIo();
  assert.equal(await runCli(['zz-sub', 'go', 'a', 'b'], io, info), 0);
  assert.deepEqual(calls, [['a', 'b']]);
  io = captureIo();
  assert.equal(await runCli(['zz-sub', '--help'], io, info), 0);
  assert.equal(io.out(), 'usage: moat zz-sub go ARGS\n');
  io = captureIo();
  assert.equal(await runCli(['zz-sub'], io, info), 64);
  assert.equal(io.out(), '');
  assert.equal(io.err(), 'usage: moat zz-sub go ARGS\n');
  for (const bad of ['stop', 'constructor', '__proto__']) {
    io = captureIo();
    assert.equal(await runCli(['zz-sub', bad], io, info), 64);
    assert.equal(io.err(), `moat zz-sub: unknown command '${bad}'; try 'moat zz-sub --help'\n`);
  }
  assert.equal(calls.length, 1);
});
