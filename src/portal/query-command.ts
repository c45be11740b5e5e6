// `moat portal query`: send one request to the daemon's socket, print the answer.
import { connect } from 'node:net';
import { EX_FAIL, EX_OK, MoatError, UsageError, errnoReason, parseCommandLine, type Io } from '../core/index.js';
import { loadPortalConfig } from './portal-config.js';

const COMMANDS = new Set(['list', 'show', 'logout', 'authorize', 'garden']);

export async function queryMain(argv: readonly string[], io: Io): Promise<number> {
  const command = 'moat portal query';
  const { values, positionals } = parseCommandLine(command, argv, { socket: { type: 'string', short: 'S' }, file: { type: 'string', short: 'f' }, help: { type: 'boolean', short: 'h' } });
  if (values.help === true) {
    io.stdout.write('usage: moat portal query [-S socket | -f portal.yaml] list | show MAC|IP | logout MAC|IP\n                         | authorize MAC|IP [user] | garden [add|del ADDR]\n');
    return EX_OK;
  }
  const [cmd, ...args] = positionals;
  if (cmd === undefined || !COMMANDS.has(cmd)) throw new UsageError(`${command}: ${cmd === undefined ? 'a command is needed' : `unknown command '${cmd}'`}`, `try '${command} --help'`);
  const socket = values.socket ?? (values.file === undefined ? '/run/moat-portal.sock' : (await loadPortalConfig(values.file)).config.query.socket);
  const answer = await ask(socket, { cmd, args });
  (answer.ok ? io.stdout : io.stderr).write(answer.ok ? answer.text : `${command}: ${answer.text}\n`);
  return answer.ok ? EX_OK : EX_FAIL;
}

export function ask(socket: string, req: { cmd: string; args: string[] }, timeoutMs = 15_000): Promise<{ ok: boolean; text: string }> {
  return new Promise((resolve, reject) => {
    const sock = connect(socket);
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new MoatError('MOAT_PORTAL_QUERY_TIMEOUT', `no answer on ${socket}`));
    }, timeoutMs);
    sock.on('connect', () => sock.write(`${JSON.stringify(req)}\n`));
    sock.on('data', (c: Buffer) => {
      buf += c.toString('utf8');
      if (buf.length > 16 << 20) sock.destroy();
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      // The socket is mode 0660, root's and the query group's (query-server.ts).
      if (e.code === 'EACCES' || e.code === 'EPERM') {
        reject(new MoatError('MOAT_PORTAL_QUERY_PERM', `cannot reach the daemon at ${socket}: permission denied (root and members of the configured query group only)`, { cause: e }));
        return;
      }
      reject(new MoatError('MOAT_PORTAL_QUERY_CONNECT', `cannot reach the daemon at ${socket}: ${errnoReason(e)}`, { cause: e }));
    });
    sock.on('end', () => {
      clearTimeout(timer);
      try {
        const a = JSON.parse(buf) as { ok?: unknown; text?: unknown };
        resolve({ ok: a.ok === true, text: typeof a.text === 'string' ? a.text : '' });
      } catch {
        reject(new MoatError('MOAT_PORTAL_QUERY_ANSWER', `bad answer from ${socket}`));
      }
    });
  });
}
