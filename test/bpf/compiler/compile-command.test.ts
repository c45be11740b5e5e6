// `moat bpf compile`, run in-process: the output formats, the flags, and
// errors with a caret and exit 65.
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runCommand } from '../../../src/core/index.js';
import { compileMain } from '../../../src/bpf/compile-command.js';
import { captureIo } from '../../helpers/io.js';
import { haveCommand, needs } from '../../helpers/system.js';
import { haveOracle, oracleDump } from '../oracle/oracle.js';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo();
  const code = await runCommand('moat bpf compile', () => compileMain(argv, io), io);
  return { code, out: io.out(), err: io.err() };
}

describe('moat bpf compile', () => {
  it('prints -d, -dd and -ddd exactly as libpcap 1.10.3 does (with -O, unoptimized)', async (t) => {
    if (!needs(t, { 'gcc and libpcap-dev (oracle)': haveOracle() })) return;
    // The last one is long enough to need libpcap's long-jump `ja`s.
    for (const expr of ['tcp port 80', 'ip and (host 10.0.0.1 or multicast or broadcast)', 'ip6 protochain 6', 'vlan 10 and udp', `${'ip and '.repeat(300)}ip`]) {
      for (const level of [1, 2, 3] as const) {
        const flag = `-${'d'.repeat(level)}`;
        const r = await run('-O', flag, expr);
        assert.equal(r.code, 0);
        assert.equal(r.out, oracleDump(1, expr, level), `${flag} ${expr}`);
      }
    }
    const raw = await run('-O', '-y', 'RAW', '-s', '96', 'udp');
    assert.equal(raw.out, oracleDump(12, 'udp', 1, { snaplen: 96 }));
  });

  it('joins several arguments into one expression, like tcpdump', async () => {
    const a = await run('tcp', 'and', 'port', '22');
    const b = await run('tcp and port 22');
    assert.equal(a.out, b.out);
    assert.match(a.out, /^\(000\) ldh {6}\[12\]/);
  });

  it('optimizes by default and -O turns the optimizer off, as in tcpdump(1)', async () => {
    const opt = await run('host 1.2.3.4 and tcp port 80');
    const plain = await run('-O', 'host 1.2.3.4 and tcp port 80');
    assert.ok(opt.out.split('\n').length < plain.out.split('\n').length);
    // tcpdump refuses an always-false filter only when it optimizes.
    assert.equal((await run('ip and not ip')).code, 65);
    assert.equal((await run('-O', 'ip and not ip')).code, 0);
    const json = await run('--json', 'tcp');
    assert.equal((JSON.parse(json.out) as { optimized: boolean }).optimized, true);
  });

  it('--json gives each instruction with its text and clause', async () => {
    const r = await run('--json', 'tcp port 80');
    const j = JSON.parse(r.out) as { linktype: string; length: number; insns: { code: number; text: string; clause?: string }[] };
    assert.equal(j.linktype, 'EN10MB');
    assert.equal(j.length, j.insns.length);
    const first = j.insns[0];
    assert.ok(first !== undefined);
    assert.equal(first.text, 'ldh [12]');
    assert.equal(first.clause, 'tcp port 80');
  });

  it('--explain names the clause each instruction came from', async () => {
    const r = await run('--explain', 'ip6 and udp port 53');
    assert.match(r.out, /; ip6 {2}\(col 1\)/);
    assert.match(r.out, /; udp port 53 {2}\(col 9\)/);
    assert.match(r.out, /ret +#262144 .*; accept/);
  });

  it('--dot draws a graph Graphviz accepts', async (t) => {
    const r = await run('--dot', 'tcp port 80 or udp');
    assert.match(r.out, /^digraph/);
    assert.match(r.out, /label="T"/);
    if (!needs(t, { 'graphviz (dot)': haveCommand('dot') })) return;
    const svg = spawnSync('dot', ['-Tsvg'], { input: r.out, encoding: 'utf8' });
    assert.equal(svg.status, 0, svg.stderr);
    assert.match(svg.stdout, /<svg/);
  });

  it('reports a bad expression with the column, a caret and exit 65', async () => {
    const r = await run('tcp port 99999');
    assert.equal(r.code, 65);
    assert.match(r.err, /<expr>:1:10: port number 99999 greater than maximum 65535/);
    assert.match(r.err, /\n {9}\^{5}/);
    const s = await run('tcp and (');
    assert.equal(s.code, 65);
    assert.match(s.err, /can't parse filter expression: syntax error/);
  });

  it('refuses bad options with exit 64 and has a one-screen --help', async () => {
    assert.equal((await run('-y', 'NOSUCH', 'ip')).code, 64);
    assert.equal((await run('--json', '--dot', 'ip')).code, 64);
    assert.equal((await run('--bogus', 'ip')).code, 64);
    const h = await run('--help');
    assert.equal(h.code, 0);
    assert.ok(h.out.split('\n').length <= 24);
  });

  it('-n turns name lookup off; -m sets the netmask for ip broadcast', async () => {
    assert.equal((await run('-n', 'host localhost')).code, 65);
    const b = await run('-m', '255.255.255.0', 'ip broadcast');
    assert.equal(b.code, 0);
    assert.match(b.out, /jeq +#0xff /);
  });

  it('-m takes a dotted mask or a prefix length and refuses non-contiguous masks', async () => {
    const dotted = await run('-O', '-m', '255.255.255.0', 'ip broadcast');
    for (const m of ['24', '255.255.255.0']) assert.equal((await run('-O', '-m', m, 'ip broadcast')).out, dotted.out, m);
    // /24 has host part 0xff: the test is 'and #0xff', never the 0xffffffe7 that '24' read as a mask gives.
    assert.match(dotted.out, /and +#0xff\n/);
    assert.match((await run('-O', '-m', '20', 'ip broadcast')).out, /and +#0xfff\n/);
    assert.equal((await run('-O', '-m', '0', 'ip broadcast')).out, (await run('-O', 'ip broadcast')).out);
    for (const bad of ['255.0.255.0', '0.255.255.255', '33', '24.5', 'mask']) {
      const r = await run('-m', bad, 'ip broadcast');
      assert.equal(r.code, 64, bad);
      assert.equal(r.err.split('\n').length, 2, r.err);
    }
  });
});
