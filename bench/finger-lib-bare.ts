// The ceiling Node sets: a bare net server that, for each connection, waits
// for the request and writes a fixed reply. `node finger-lib-bare.js PORT FILE`.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const [port = '0', file = ''] = process.argv.slice(2);
const reply = readFileSync(file);
const server = createServer((s) => {
  s.on('error', () => undefined);
  s.once('data', () => {
    s.end(reply);
  });
});
server.listen({ host: '127.0.0.1', port: Number(port), backlog: 511 }, () => {
  process.stderr.write('ready\n');
});
process.on('SIGTERM', () => {
  server.close();
  process.exit(0);
});
