// The small HTTP plumbing of the portal's web server: replies with a length
// (and no body for HEAD), a 302 that clients which do not follow it can still
// use, and a bounded form body.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A login form is a few short fields: anything larger is refused (413). */
const MAX_BODY = 8192;

export function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

export function redirect(res: ServerResponse, location: string): void {
  // 302 as CoovaChilli does; the body helps clients that do not follow it.
  const body = `<!DOCTYPE html><html><head><title>Redirect</title></head><body><a href="${location.replace(/[&<>"']/g, (c) => `&#${String(c.charCodeAt(0))};`)}">Continue</a></body></html>\n`;
  send(res, 302, 'text/html; charset=utf-8', body, { Location: location });
}

export class BodyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') throw new BodyError(415, 'form data expected');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_BODY) throw new BodyError(413, 'request too large');
    chunks.push(c);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
