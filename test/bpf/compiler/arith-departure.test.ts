// The one departure from every libpcap (src/bpf/compiler/index.ts,
// moat-bpf(8) CAVEATS): arithmetic keeps its right operand's protocol
// checks. The man page's example, on the packet it describes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileFilter } from '../../../src/bpf/compiler/index.js';
import { dumpProgram } from '../../../src/bpf/print/index.js';
import { interpret } from '../../../src/bpf/runtime/index.js';
import { needs } from '../../helpers/system.js';
import { haveOracle, oracleCompile, oracleDump } from '../oracle/oracle.js';

/** Ethernet, IPv4 (header 0x45), UDP from port 53 (first byte 0x00) to 4000. */
function udpPacket(): Uint8Array {
  const p = new Uint8Array(14 + 20 + 8);
  p.set([0x08, 0x00], 12);
  p.set([0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], 14);
  p.set([0x00, 53, 0x0f, 0xa0, 0, 8, 0, 0], 34);
  return p;
}

describe("arithmetic keeps the right operand's protocol checks", () => {
  it("rejects the UDP packet on which libpcap's program loads tcp[0]", (t) => {
    const expr = 'ip[0] + tcp[0] = 0x45';
    const pkt = udpPacket();
    for (const optimize of [false, true]) {
      assert.equal(interpret(compileFilter(expr, { linktype: 1, optimize }), pkt, pkt.length), 0, `optimize: ${String(optimize)}`);
    }
    // Written the other way round, libpcap keeps the checks too, and agrees with us.
    assert.equal(interpret(compileFilter('tcp[0] + ip[0] = 0x45', { linktype: 1 }), pkt, pkt.length), 0);
    if (!needs(t, { 'gcc and libpcap-dev (oracle)': haveOracle() })) return;
    for (const optimize of [false, true]) {
      assert.equal(interpret(oracleCompile(1, expr, { optimize }), pkt, pkt.length), 262144, `libpcap, optimize: ${String(optimize)}`);
    }
    assert.equal(interpret(oracleCompile(1, 'tcp[0] + ip[0] = 0x45'), pkt, pkt.length), 0);
  });

  it("checks a protocol once when the left operand checks it already: libpcap's unoptimized program", (t) => {
    if (!needs(t, { 'gcc and libpcap-dev (oracle)': haveOracle() })) return;
    // Ethernet, radiotap (127) and PPI (192); the 802.11 ones are not optimized (the 802.11 header's length jumps inside a statement list).
    for (const [dlt, expr] of [[1, 'ip[2:2] - ((ip[0]&0xf)<<2) < 237'], [127, 'ip[2:2] - ((ip[0]&0xf)<<2) < 73'], [192, 'tcp[0] + tcp[1] = 3']] as const) {
      assert.equal(dumpProgram(compileFilter(expr, { linktype: dlt }), 1), oracleDump(dlt, expr, 1), `${String(dlt)} ${expr}`);
    }
  });
});
