// Neutralise what a user's file could do to a reader's terminal. A .plan is
// written by a local user and read by a stranger's terminal: an ESC or a C1
// CSI (U+009B) in it could retitle windows, remap keys or hide text. The
// history of cfingerd and efingerd is full of such holes.

const CRLF = '\r\n';

/**
 * Turn raw file bytes into CRLF lines (RFC 1288 §2.2: the response is ASCII
 * text with CRLF line ends). Control bytes become caret notation (`^[`), TAB
 * is kept. With `utf8`, well-formed UTF-8 passes through except C1 controls;
 * without it, every byte above 0x7e becomes `?`.
 */
export function sanitizeText(data: Buffer, utf8: boolean): string {
  const text = utf8 ? decodeUtf8(data) : decodeAscii(data);
  const lines = text.split('\n');
  // A final newline ends the last line; it does not start an empty one.
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => neutralise(l.endsWith('\r') ? l.slice(0, -1) : l)).join(CRLF) + CRLF;
}

/** One line, no terminator, with controls made visible. Also used for log fields. */
export function neutralise(line: string): string {
  // C0 controls except TAB, DEL, and the C1 range U+0080..U+009F.
  return line.replace(/[\x00-\x08\x0a-\x1f\x7f\u0080-\u009f]/g, (c) => {
    const code = c.charCodeAt(0);
    if (code === 0x7f) return '^?';
    if (code < 0x20) return `^${String.fromCharCode(code + 0x40)}`;
    return `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

function decodeAscii(data: Buffer): string {
  // latin1 maps each byte to one code unit; then anything above 0x7e that is
  // not DEL goes to '?'. DEL is left for neutralise() to show as ^?.
  return data.toString('latin1').replace(/[\u0080-\u00ff]/g, '?');
}

const decoder = new TextDecoder('utf-8', { fatal: false });

function decodeUtf8(data: Buffer): string {
  // The WHATWG decoder turns each malformed sequence into U+FFFD; show those as '?'.
  return decoder.decode(data).replace(/\ufffd/g, '?');
}
