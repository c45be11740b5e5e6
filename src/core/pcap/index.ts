// Capture files: classic pcap and pcapng, read in constant memory, written as pcap.
export type { CapturePacket } from './capture-packet.js';
export { MAX_RECORD_BYTES } from './capture-packet.js';
export { CaptureParser, type CaptureCursor } from './capture-parser.js';
export { captureChunks, parseCaptureBuffer, readCapture } from './capture-reader.js';
export { PcapWriter, type PcapWriterOptions } from './pcap-writer.js';
