import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EX_NOINPUT, EX_OK, parseCaptureBuffer, runCommand } from '../../../src/core/index.js';
import { filterMain } from '../../../src/bpf/filter-command.js';
import { confineMain } from '../../../src/bpf/confine-command.js';
import { captureIo } from '../../helpers/io.js';
import { haveCommand, needs, sharedDir } from '../../helpers/system.js';

const pcaps = join(sharedDir, 'bpf', 'pcaps', 'libpcap-filter');
// ICMP over IPv4 and IPv6 between several hosts, and ARP.
const input = join(pcaps, 'gateway_or_not.pcap');

describe('moat bpf filter', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'moat-bpf-filter-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the same packets as tcpdump -r -w, byte for byte', async (t) => {
    if (!needs(t, { tcpdump: haveCommand('tcpdump') })) return;
    for (const expr of ['ip', 'arp', 'ip6 or icmp', 'not ip', 'host 10.20.30.40']) {
      const ours = join(dir, 'ours.pcap');
      const theirs = join(dir, 'theirs.pcap');
      const io = captureIo();
      assert.equal(await filterMain(['-r', input, '-w', ours, expr], io), 0);
      assert.match(io.err(), /packets read, \d+ written in [\d.]+ s \(\d+ packets\/s/);
      const r = spawnSync('tcpdump', ['-r', input, '-w', theirs, expr], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(readFileSync(ours), readFileSync(theirs), expr);
    }
  });

  it("keeps the input's snaplen and link type in the output header, as tcpdump -r -w", async (t) => {
    if (!needs(t, { tcpdump: haveCommand('tcpdump') })) return;
    // Snaplen 1536 (Ethernet) and 8192 (Cisco HDLC): the header must say so, not 262144.
    // And the FCS bits above the link type (0x30000001: Ethernet with a 32-bit FCS), which libpcap writes back.
    for (const [name, expr] of [['isakmp4500.pcap', 'udp'], ['ISIS_p2p_adjacency.pcap', ''], ['isakmp4500.pcap', 'arp'], ['../tcpdump/tcp_header_heapoverflow.pcap', ''], ['../tcpdump/rsvp_uni-oobr-1.pcap', 'ip']] as const) {
      const file = join(pcaps, name);
      const ours = join(dir, 'hdr-ours.pcap');
      const theirs = join(dir, 'hdr-theirs.pcap');
      assert.equal(await filterMain(['-r', file, '-w', ours, ...(expr === '' ? [] : [expr])], captureIo()), 0);
      const r = spawnSync('tcpdump', ['-r', file, '-w', theirs, ...(expr === '' ? [] : [expr])], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(readFileSync(ours), readFileSync(theirs), `${name} ${expr}`);
      assert.equal(readFileSync(ours).readUInt32LE(16), readFileSync(file).readUInt32LE(16));
      if (name.startsWith('../')) assert.notEqual(readFileSync(theirs).readUInt32LE(20) >>> 26, 0, `${name}: tcpdump keeps the FCS bits`);
    }
  });

  it('never touches the output when the filter is bad or the input missing', async () => {
    const out = join(dir, 'keep.pcap');
    writeFileSync(out, 'precious');
    const sub = mkdtempSync(join(dir, 'atomic-'));
    const sub_out = join(sub, 'keep.pcap');
    writeFileSync(sub_out, 'precious');
    for (const args of [
      ['-r', input, '-w', sub_out, 'tcp and'],
      ['-r', input, '-w', sub_out, 'ether proto \\ip and'],
      ['-r', input, '-w', sub_out, 'host nosuchhost.invalid'],
      ['-r', join(dir, 'missing.pcap'), '-w', sub_out, 'ip'],
    ]) {
      const io = captureIo();
      const code = await runCommand('moat bpf', () => filterMain(args, io), io);
      assert.notEqual(code, EX_OK, args.join(' '));
      assert.equal(readFileSync(sub_out, 'utf8'), 'precious', args.join(' '));
      // No temporary file is left beside it.
      assert.deepEqual(readdirSync(sub), ['keep.pcap']);
    }
    // A run that succeeds replaces it whole.
    assert.equal(await filterMain(['-r', input, '-w', sub_out, 'icmp'], captureIo()), 0);
    assert.ok([...parseCaptureBuffer(readFileSync(sub_out))].length > 0);
    assert.deepEqual(readdirSync(sub), ['keep.pcap']);
    // A device is written in place (a rename would replace /dev/null).
    assert.equal(await filterMain(['-r', input, '-w', '/dev/null', 'icmp'], captureIo()), 0);
    assert.ok(statSync('/dev/null').isCharacterDevice());
  });

  it('says a missing input is missing in one line, exit 66 (EX_NOINPUT)', async () => {
    const io = captureIo({ cwd: dir });
    const code = await runCommand('moat bpf', () => filterMain(['-r', join(dir, 'in.pcap'), '-w', join(dir, 'o.pcap'), 'ip'], io), io);
    assert.equal(code, EX_NOINPUT);
    assert.equal(io.err(), `moat bpf: ${join(dir, 'in.pcap')}: No such file or directory\n`);
  });

  it("compiles 'ip broadcast' with netmask 0, as tcpdump -r does", async (t) => {
    if (!needs(t, { tcpdump: haveCommand('tcpdump') })) return;
    const ours = join(dir, 'bc-ours.pcap');
    const theirs = join(dir, 'bc-theirs.pcap');
    // An address of all ones in the host part: with netmask 0, 255.255.255.255 or 0.0.0.0.
    const file = join(pcaps, 'dhcp-rfc3004.pcap');
    for (const expr of ['ip broadcast', 'not ip broadcast']) {
      assert.equal(await filterMain(['-r', file, '-w', ours, expr], captureIo()), 0);
      const r = spawnSync('tcpdump', ['-r', file, '-w', theirs, expr], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(readFileSync(ours), readFileSync(theirs), expr);
    }
    assert.ok([...parseCaptureBuffer(readFileSync(ours))].length < [...parseCaptureBuffer(readFileSync(file))].length);
  });

  it('optimizes by default; -O gives the same packets unoptimized', async () => {
    for (const expr of ['icmp or arp', 'host 10.20.30.40 and icmp']) {
      const a = join(dir, 'opt.pcap');
      const b = join(dir, 'noopt.pcap');
      assert.equal(await filterMain(['-r', input, '-w', a, expr], captureIo()), 0);
      assert.equal(await filterMain(['-O', '-r', input, '-w', b, expr], captureIo()), 0);
      assert.deepEqual(readFileSync(a), readFileSync(b));
    }
  });

  it('matches tcpdump on BSD loopback captures in either byte order (ip6 on NULL)', async (t) => {
    if (!needs(t, { tcpdump: haveCommand('tcpdump') })) return;
    // A FreeBSD capture: NULL link type, AF_INET6 = 28 in the capturing host's order.
    const le = readFileSync(join(sharedDir, 'bpf', 'pcaps', 'tcpdump', 'icmpv6-RFC2894-RR.pcap'));
    // The same capture as a big-endian host writes it: every header field and
    // the NULL family word swapped (pcap-savefile(5); libpcap's pcap_is_swapped).
    const be = Buffer.from(le);
    be.writeUInt32BE(0xa1b2c3d4, 0);
    be.writeUInt16BE(le.readUInt16LE(4), 4);
    be.writeUInt16BE(le.readUInt16LE(6), 6);
    for (const o of [8, 12, 16, 20]) be.writeUInt32BE(le.readUInt32LE(o), o);
    for (let o = 24; o + 16 <= le.length; ) {
      for (const f of [0, 4, 8, 12]) be.writeUInt32BE(le.readUInt32LE(o + f), o + f);
      const caplen = le.readUInt32LE(o + 8);
      be.writeUInt32BE(le.readUInt32LE(o + 16), o + 16);
      o += 16 + caplen;
    }
    const files: [string, Buffer][] = [['le.pcap', le], ['be.pcap', be]];
    for (const [name, bytes] of files) {
      const input = join(dir, name);
      writeFileSync(input, bytes);
      for (const expr of ['ip6', 'ip6 and icmp6', 'ip', 'not ip6']) {
        const ours = join(dir, 'ours-null.pcap');
        const theirs = join(dir, 'theirs-null.pcap');
        assert.equal(await filterMain(['-r', input, '-w', ours, expr], captureIo()), 0);
        const r = spawnSync('tcpdump', ['-r', input, '-w', theirs, expr], { encoding: 'utf8' });
        assert.equal(r.status, 0, r.stderr);
        const count = (f: string): number => [...parseCaptureBuffer(readFileSync(f))].length;
        assert.equal(count(ours), count(theirs), `${name}: ${expr}`);
        if (expr === 'ip6') assert.ok(count(ours) > 0, `${name}: the capture holds IPv6`);
      }
    }
  });

  it('reads stdin and writes stdout with -', async () => {
    const io = captureIo({ stdin: readFileSync(input) });
    const chunks: Buffer[] = [];
    io.stdout.on('data', (c: Buffer) => chunks.push(c));
    assert.equal(await filterMain(['-r', '-', '-w', '-', 'arp'], io), 0);
    const out = [...parseCaptureBuffer(Buffer.concat(chunks))];
    const all = [...parseCaptureBuffer(readFileSync(input))];
    assert.ok(out.length > 0 && out.length < all.length);
  });

  it('writes every good packet of a damaged capture, then names the byte offset', async () => {
    const whole = readFileSync(input);
    const cut = whole.length - 10;
    const damaged = join(dir, 'damaged.pcap');
    writeFileSync(damaged, whole.subarray(0, cut));
    const out = join(dir, 'partial.pcap');
    const io = captureIo();
    await assert.rejects(filterMain(['-r', damaged, '-w', out], io), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'MOAT_PCAP_TRUNCATED');
      assert.match(e.message, /byte offset \d+/);
      return true;
    });
    const good = [...parseCaptureBuffer(whole)].filter((p) => p.offset + 16 + p.caplen <= cut).length;
    assert.equal([...parseCaptureBuffer(readFileSync(out))].length, good);
  });

  it('confines while filtering: only the jail\'s IPv4 and IPv6 traffic, never ARP', async () => {
    const out = join(dir, 'confined.pcap');
    copyFileSync(input, join(dir, 'in.pcap'));
    const io = captureIo();
    const args = ['-r', join(dir, 'in.pcap'), '-w', out, '--confine', '10.20.30.40', '--confine', 'fd00:e5f6::f3', 'icmp or icmp6 or arp'];
    assert.equal(await filterMain(args, io), 0);
    const got = [...parseCaptureBuffer(readFileSync(out))].map((p) => Buffer.from(p.data).toString('hex'));
    const want = [...parseCaptureBuffer(readFileSync(input))].filter((_, i) => [0, 1, 4, 7].includes(i)).map((p) => Buffer.from(p.data).toString('hex'));
    assert.deepEqual(got, want);
    assert.match(io.err(), / 4 written/);
  });

  it('keeps only the -y link type, taking LINKTYPE_RAW (101) in files as DLT_RAW', async () => {
    const raw = join(sharedDir, 'bpf', 'pcaps', 'tcpdump', 'LINKTYPE_RAW_ipv4.pcap');
    const io = captureIo();
    const out = join(dir, 'y.pcap');
    // gateway_or_not.pcap is Ethernet: -y RAW keeps nothing, -y EN10MB keeps everything.
    assert.equal(await filterMain(['-r', input, '-w', out, '-y', 'RAW'], io), 0);
    assert.match(io.err(), / 0 written/);
    const io2 = captureIo();
    assert.equal(await filterMain(['-r', input, '-w', out, '-y', 'EN10MB'], io2), 0);
    assert.match(io2.err(), /14 packets read, 14 written/);
    const io3 = captureIo();
    assert.equal(await filterMain(['-r', raw, '-w', out, '-y', 'RAW', 'ip'], io3), 0);
    const n = [...parseCaptureBuffer(readFileSync(raw))].length;
    assert.ok(n > 0);
    assert.match(io3.err(), new RegExp(` ${String(n)} packets read, ${String(n)} written`));
  });

  it('gives one-line usage errors', async () => {
    await assert.rejects(filterMain(['tcp'], captureIo()), { code: 'MOAT_USAGE' });
    // Without --confine there is nothing for them to change: say so rather than ignore them.
    for (const flag of ['--no-multicast', '--no-broadcast']) {
      const out = join(dir, 'never.pcap');
      await assert.rejects(filterMain(['-r', input, '-w', out, flag, 'ip'], captureIo()), { code: 'MOAT_USAGE' });
      assert.throws(() => statSync(out), { code: 'ENOENT' });
    }
    await assert.rejects(filterMain(['-r', input, '-w', '-', '--bogus'], captureIo()), { code: 'MOAT_USAGE' });
    const io = captureIo();
    assert.equal(await filterMain(['--help'], io), 0);
    assert.ok(io.out().split('\n').length <= 24);
  });
});

describe('moat bpf confine', () => {
  it('prints a proven program in tcpdump -d format', async () => {
    const io = captureIo();
    assert.equal(await confineMain(['--addr', '192.0.2.1', '--addr', '2001:db8::1', '-y', 'EN10MB', 'tcp port 80'], io), 0);
    const lines = io.out().trim().split('\n');
    assert.match(lines[0] ?? '', /^\(000\) ldh\s+\[12\]$/);
    assert.match(lines[lines.length - 1] ?? '', /ret\s+#0$/);
    const dd = captureIo();
    assert.equal(await confineMain(['--addr', '192.0.2.1', '-y', 'RAW', '-dd', ''], dd), 0);
    assert.match(dd.out(), /^\{ 0x30, 0, 0, 0x00000000 \},$/m);
  });
  it('refuses unsupported link types and bad addresses', async () => {
    // PPP: a link type the compiler takes but confinement does not cover (PFLOG and 802.11 it does).
    await assert.rejects(confineMain(['--addr', '192.0.2.1', '-y', 'PPP', 'tcp'], captureIo()), { code: 'MOAT_BPF_CONFINE_LINKTYPE' });
    await assert.rejects(confineMain(['--addr', 'nope', '-y', 'EN10MB', 'tcp'], captureIo()), { code: 'MOAT_BPF_CONFINE_ADDRESS' });
    await assert.rejects(confineMain(['-y', 'EN10MB', 'tcp'], captureIo()), { code: 'MOAT_USAGE' });
  });
});
