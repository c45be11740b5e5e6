import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A real rsyslogd from Debian, on loopback ports and a unix stream socket in
 * a temporary directory, writing what it receives to a file with a template
 * that keeps each field apart. Tests use it as the syslog peer.
 */
export interface Rsyslog {
  udpPort: number;
  tcpPort: number;
  unixPath: string;
  /** Lines received so far: PRI|APP-NAME|PROCID|MSGID|STRUCTURED-DATA|MSG. */
  lines(): Promise<string[]>;
  /** Wait until a line matching `re` arrives. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => {
        resolve(port);
      });
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function startRsyslog(): Promise<Rsyslog> {
  const dir = await mkdtemp(join(tmpdir(), 'moat-rsyslog-'));
  const udpPort = await freePort();
  const tcpPort = await freePort();
  const unixPath = join(dir, 'log.sock');
  const out = join(dir, 'out.log');
  const conf = `
global(workDirectory="${dir}")
module(load="imudp")
module(load="imtcp")
module(load="imptcp")
input(type="imudp" address="127.0.0.1" port="${String(udpPort)}")
input(type="imtcp" address="127.0.0.1" port="${String(tcpPort)}")
input(type="imptcp" path="${unixPath}" unlink="on")
template(name="fields" type="string" string="%pri%|%app-name%|%procid%|%msgid%|%structured-data%|%msg%\\n")
*.* action(type="omfile" file="${out}" template="fields")
`;
  await writeFile(join(dir, 'rsyslog.conf'), conf);
  const child: ChildProcess = spawn('rsyslogd', ['-n', '-f', join(dir, 'rsyslog.conf'), '-i', join(dir, 'rsyslogd.pid')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const lines = async (): Promise<string[]> => {
    try {
      return (await readFile(out, 'utf8')).split('\n').filter((l) => l !== '');
    } catch {
      return [];
    }
  };
  // Ready when the TCP port accepts.
  const deadline = Date.now() + 10000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`rsyslogd exited: ${stderr}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port: tcpPort }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => {
        resolve(false);
      });
    });
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`rsyslogd did not start: ${stderr}`);
    await sleep(50);
  }
  return {
    udpPort,
    tcpPort,
    unixPath,
    lines,
    async waitFor(re: RegExp, timeoutMs = 10000): Promise<string> {
      const until = Date.now() + timeoutMs;
      while (Date.now() < until) {
        const hit = (await lines()).find((l) => re.test(l));
        if (hit !== undefined) return hit;
        await sleep(50);
      }
      throw new Error(`rsyslog never received ${String(re)}; got:\n${(await lines()).join('\n')}\n${stderr}`);
    },
    async stop(): Promise<void> {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
