// Every packet of a capture, copied out of the reader's buffer, for tests
// that compare decisions with libpcap's.
import { readCapture, type CapturePacket } from '../../src/core/index.js';

/** The packets of `file`; a damaged capture gives those before the damage, where libpcap stops too. */
export async function packetsOf(file: string): Promise<CapturePacket[]> {
  const out: CapturePacket[] = [];
  try {
    for await (const p of readCapture(file)) out.push({ ...p, data: p.data.slice() });
  } catch {
    // damaged: keep what came before, as libpcap does
  }
  return out;
}
