// Hostile input is ordinary input: names with spaces, `;`, `$()` and
// newlines; symlinks that escape or loop; a PT_INTERP that names a script
// which would leave a marker if anything ever ran it.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '../../src/root/index.js';
import { captureIo } from '../helpers/io.js';
import { buildElf, put } from './elf-builder.js';

async function moat(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo();
  try {
    return { code: await main(args, io), out: io.out(), err: io.err() };
  } catch (e) {
    const err = e as { exitCode?: number; code?: string; message?: string };
    return { code: err.exitCode ?? 70, out: io.out(), err: `${io.err()}${err.code ?? ''}: ${err.message ?? ''}` };
  }
}

const LD = '/lib64/ld-linux-x86-64.so.2';
const EVIL = ['lib $(touch MARKER).so.1', 'lib;touch MARKER;.so.1', 'lib`touch MARKER`.so.1', 'lib\nnewline.so.1', "lib'quote\".so.1"];

describe('hostile names and trees', () => {
  let base = '';
  let sys = '';
  let marker = '';
  before(() => {
    base = mkdtempSync(join('/var/tmp', 'moat-hostile-'));
    chmodSync(base, 0o755);
    sys = join(base, 'sys');
    marker = join(base, 'MARKER');
    put(sys, '/lib64/ld-linux-x86-64.so.2', buildElf({ soname: 'ld-linux-x86-64.so.2' }));
    put(sys, '/lib/x86_64-linux-gnu/libc.so.6', buildElf({ soname: 'libc.so.6' }));
    for (const n of EVIL) put(sys, `/lib/x86_64-linux-gnu/${n}`, buildElf({ soname: n, needed: ['libc.so.6'] }));
    put(sys, '/bin/x;touch MARKER', buildElf({ type: 2, interp: LD, needed: [...EVIL, 'libc.so.6'] }));
    put(sys, '/bin/with space $(id)', buildElf({ type: 2, interp: LD, needed: ['libc.so.6'] }));
    // A PT_INTERP that names a shell script. If anything runs it, the marker appears.
    put(sys, '/bin/evil-interp.sh', `#!/bin/sh\ntouch '${marker}'\n`);
    put(sys, '/bin/uses-evil-interp', buildElf({ type: 2, interp: '/bin/evil-interp.sh', needed: ['libc.so.6'] }));
    // The same, naming the script by its host path, for the host tree.
    put(sys, '/bin/uses-host-evil-interp', buildElf({ type: 2, interp: `${sys}/bin/evil-interp.sh`, needed: ['libc.so.6'] }));
    // Symlinks: one climbing out of the sysroot, one loop, one pointing at a FIFO.
    symlinkSync('../../../../../../../../../etc/passwd', join(sys, 'lib/x86_64-linux-gnu/libescape.so.1'));
    symlinkSync('libloopb.so.1', join(sys, 'lib/x86_64-linux-gnu/libloopa.so.1'));
    symlinkSync('libloopa.so.1', join(sys, 'lib/x86_64-linux-gnu/libloopb.so.1'));
    put(sys, '/bin/needs-escape', buildElf({ type: 2, interp: LD, needed: ['libescape.so.1'] }));
    put(sys, '/bin/needs-loop', buildElf({ type: 2, interp: LD, needed: ['libloopa.so.1'] }));
  });
  after(() => { rmSync(base, { recursive: true, force: true }); });

  it('builds a root from binaries and libraries with shell metacharacters and newlines in their names', async () => {
    const root = join(base, 'root1');
    const m = join(base, 'm1.json');
    const r = await moat(['build', '--root', root, '--sysroot', sys, '--no-ldconfig', '--manifest', m, '/bin/x;touch MARKER', '/bin/with space $(id)']);
    assert.equal(r.code, 0, r.err);
    for (const n of EVIL) assert.ok(existsSync(join(root, 'lib/x86_64-linux-gnu', n)), n);
    assert.ok(existsSync(join(root, 'bin/x;touch MARKER')));
    assert.ok(existsSync(join(root, 'bin/with space $(id)')));
    assert.equal(existsSync(marker), false);
    assert.equal(existsSync(join(base, 'sys', 'MARKER')), false);
    assert.equal(existsSync(join(process.cwd(), 'MARKER')), false);
    // The manifest keeps the newline as data and verify reads it back.
    const manifest = JSON.parse(readFileSync(m, 'utf8')) as { entries: { path: string }[] };
    assert.ok(manifest.entries.some((e) => e.path === '/lib/x86_64-linux-gnu/lib\nnewline.so.1'));
    const v = await moat(['verify', '--root', root, '--manifest', m]);
    assert.equal(v.code, 0, v.out);
    const l = await moat(['ldd', '--sysroot', sys, '/bin/x;touch MARKER']);
    assert.match(l.out, /\tlib \$\(touch MARKER\)\.so\.1 => \/lib\/x86_64-linux-gnu\/lib \$\(touch MARKER\)\.so\.1 \(0x0+\)/);
    assert.equal(existsSync(marker), false);
  });

  it('never runs a PT_INTERP script: ldd and build report it and stop', async () => {
    const l = await moat(['ldd', '--sysroot', sys, '/bin/uses-evil-interp']);
    assert.equal(l.code, 1);
    assert.match(l.out, /\/bin\/evil-interp\.sh => interpreter is not an ELF file/);
    const b = await moat(['build', '--root', join(base, 'root2'), '--sysroot', sys, '--no-ldconfig', '/bin/uses-evil-interp']);
    assert.equal(b.code, 65);
    assert.match(b.err, /MOAT_ROOT_MISSING.*interpreter is not an ELF file/);
    // The same on the host tree, where the interpreter path leads to the executable script.
    const host = await moat(['ldd', join(sys, 'bin/uses-host-evil-interp')]);
    assert.equal(host.code, 1);
    assert.match(host.out, /evil-interp\.sh => interpreter is not an ELF file/);
    assert.equal(existsSync(marker), false, 'the interpreter script ran');
  });

  it('treats a symlink climbing out of the sysroot, and a loop, as errors', async () => {
    const esc = await moat(['build', '--root', join(base, 'root3'), '--sysroot', sys, '--no-ldconfig', '/bin/needs-escape']);
    assert.equal(esc.code, 65);
    assert.match(esc.err, /libescape\.so\.1/);
    const loop = await moat(['build', '--root', join(base, 'root3'), '--sysroot', sys, '--no-ldconfig', '/bin/needs-loop']);
    assert.equal(loop.code, 65);
    const f1 = await moat(['build', '--root', join(base, 'root3'), '--sysroot', sys, '--no-ldconfig', '/bin/with space $(id)', '--file', '/lib/x86_64-linux-gnu/libescape.so.1']);
    assert.match(f1.err, /MOAT_ROOT_SYMLINK_ESCAPE/);
    const f2 = await moat(['build', '--root', join(base, 'root3'), '--sysroot', sys, '--no-ldconfig', '/bin/with space $(id)', '--file', '/lib/x86_64-linux-gnu/libloopa.so.1']);
    assert.match(f2.err, /MOAT_ROOT_SYMLINK_LOOP/);
    const v = await moat(['ldd', '-v', '--sysroot', sys, '/bin/needs-loop']);
    assert.match(v.out, /libloopa\.so\.1 => not found/);
    assert.match(v.out, /# skipped .*too many levels of symbolic links/);
  });

  it('never writes through a symlink planted in the root being built', async () => {
    const root = join(base, 'root4');
    const outside = join(base, 'outside');
    mkdirSync(outside);
    mkdirSync(root);
    // An absolute link inside the root: followed inside the root, never on the host.
    symlinkSync(outside, join(root, 'lib'));
    symlinkSync(`${outside}/planted`, join(root, 'bin'));
    const r = await moat(['build', '--root', root, '--sysroot', sys, '--no-ldconfig', '/bin/with space $(id)']);
    assert.deepEqual(readdirSync(outside), [], 'something was written outside the root');
    // The build either fails on the conflicting links or lays the files out inside the root.
    if (r.code === 0) assert.ok(existsSync(join(root, outside.slice(1))) || existsSync(join(root, 'bin')));
    else assert.match(r.err, /MOAT_ROOT_CONFLICT/);
  });
});
