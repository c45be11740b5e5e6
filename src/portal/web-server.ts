// The portal's web server on the gateway: the redirect of unauthorised HTTP,
// the built-in pages and the RFC 8908 API; CoovaChilli's /logon and JSON
// interface are in coova-handlers.ts. One handler serves plain HTTP
// (web.port) and HTTPS (web.https-port).
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { MoatError, errnoReason, type Logger } from '../core/index.js';
import type { ClientLookup } from './client-lookup.js';
import type { Gateway } from './gateway.js';
import { CoovaHandlers, type AttemptResult } from './coova-handlers.js';
import { captiveApi } from './json-interface.js';
import { loginPage, messagePage, statusPage } from './login-page.js';
import type { PortalMetrics } from './metrics.js';
import type { PortalSettings } from './portal-config.js';
import type { ClientKey, Credentials } from './ports.js';
import { LoginRateLimit } from './rate-limit.js';
import { bytesRemaining, secondsRemaining, sessionTime, type Session } from './session.js';
import { TERMINATE_CAUSE } from './ports.js';
import { Challenges, chapResponse, safeUserUrl, verifyUrl, type Signer } from './uam.js';
import { randomBytes } from 'node:crypto';
import { BodyError, readForm, redirect, send } from './http-reply.js';

export interface WebOptions {
  settings: PortalSettings;
  gateway: Gateway;
  lookup: Pick<ClientLookup, 'lookup'>;
  logger: Logger;
  metrics: PortalMetrics;
  /** MAC authentication on a client's first request (the daemon passes it when mac-auth is on). */
  macAuth?: (client: ClientKey) => Promise<Session | undefined>;
  /** Ports to bind instead of the configured ones (0: any free port), for tests. */
  ports?: { http: number; https: number };
  /** Address to bind (default: every address). */
  bindHost?: string;
}

export class PortalWeb {
  private o: WebOptions;
  private readonly challenges = new Challenges();
  private limiter: LoginRateLimit;
  private signer: Signer;
  private readonly servers: Server[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly coova: CoovaHandlers;

  constructor(options: WebOptions) {
    this.o = options;
    this.limiter = new LoginRateLimit(options.settings.config.web['login-rate']);
    this.signer = signerOf(options.settings);
    this.coova = new CoovaHandlers({
      options: () => this.o,
      signer: () => this.signer,
      challenges: this.challenges,
      base: (secure) => this.base(secure),
      attempt: (client, credentials) => this.attempt(client, credentials),
    });
  }

  /** A reload: new settings, same servers (ports changes need a restart). */
  update(options: WebOptions): void {
    this.o = options;
    this.limiter = new LoginRateLimit(options.settings.config.web['login-rate']);
    this.signer = signerOf(options.settings);
  }

  async listen(): Promise<string[]> {
    const s = this.o.settings;
    const c = s.config.web;
    const bound: string[] = [];
    const http = createServer({ maxHeaderSize: 8192 }, (req, res) => {
      void this.handle(req, res, false);
    });
    this.servers.push(http);
    bound.push(await this.bind(http, this.o.ports?.http ?? c.port, 'http'));
    if (c.cert !== undefined && c.key !== undefined) {
      let cert: Buffer;
      let key: Buffer;
      try {
        cert = readFileSync(c.cert);
        key = readFileSync(c.key);
      } catch (e) {
        throw new MoatError('MOAT_PORTAL_TLS', `cannot read the TLS certificate or key: ${errnoReason(e)}`);
      }
      const https = createHttpsServer({ cert, key, maxHeaderSize: 8192 }, (req, res) => {
        void this.handle(req, res, true);
      });
      this.servers.push(https);
      bound.push(await this.bind(https, this.o.ports?.https ?? c['https-port'], 'https'));
    }
    return bound;
  }

  private async bind(server: Server, port: number, label: string): Promise<string> {
    server.headersTimeout = 10_000;
    server.requestTimeout = 20_000;
    server.keepAliveTimeout = 5_000;
    server.maxConnections = 4096;
    server.on('connection', (sock: Socket) => {
      this.sockets.add(sock);
      sock.on('close', () => this.sockets.delete(sock));
    });
    // A proxy request is never ours to serve.
    server.on('connect', (_req: IncomingMessage, sock: Socket) => {
      sock.end('HTTP/1.1 405 Method Not Allowed\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    });
    server.on('clientError', (_e, sock: Socket) => {
      if (sock.writable) sock.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // Every address: redirected traffic arrives for the gateway's address on the client side.
      server.listen(port, this.o.bindHost, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const a = server.address();
    return `${label}:${typeof a === 'object' && a !== null ? String(a.port) : String(port)}`;
  }

  async close(): Promise<void> {
    for (const s of this.servers) s.close();
    for (const sock of this.sockets) sock.destroy();
    await Promise.all(this.servers.map((s) => new Promise((r) => s.once('close', r))));
  }

  /** The names this server answers to; any other Host is a client's request the firewall redirected. */
  private isOurHost(host: string): boolean {
    const s = this.o.settings;
    const name = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '').toLowerCase();
    return name === s.gateway || name === s.config.web.hostname?.toLowerCase() || name === s.gateway6?.toLowerCase();
  }

  private base(secure: boolean): string {
    const s = this.o.settings;
    return secure ? `https://${s.portalHost}:${String(s.config.web['https-port'])}` : `http://${s.portalHost}:${String(s.config.web.port)}`;
  }

  async handle(req: IncomingMessage, res: ServerResponse, secure: boolean): Promise<void> {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    try {
      const host = req.headers.host ?? '';
      const ip = req.socket.remoteAddress ?? '';
      if (!this.isOurHost(host)) {
        if (secure) {
          send(res, 421, 'text/plain', 'misdirected request\n');
          return;
        }
        await this.captiveRedirect(req, res, ip, host);
        return;
      }
      const url = new URL(req.url ?? '/', 'http://portal');
      const path = url.pathname;
      const method = req.method ?? 'GET';
      if (method === 'POST' && (path === '/login' || path === '/logout')) {
        const form = await readForm(req);
        if (path === '/login') await this.postLogin(res, ip, form, secure);
        else await this.logout(res, ip, false);
        return;
      }
      if (method !== 'GET' && method !== 'HEAD') {
        send(res, 405, 'text/plain', 'method not allowed\n', { Allow: 'GET, HEAD, POST' });
        return;
      }
      switch (path) {
        case '/':
        case '/login':
          await this.getLogin(res, ip, url, secure);
          return;
        case '/status':
          await this.getStatus(res, ip, secure);
          return;
        case '/logon':
          await this.coova.uamLogon(res, ip, url);
          return;
        case '/logoff':
          await this.logout(res, ip, true);
          return;
        case '/api':
          await this.api(res, ip, secure);
          return;
        case '/json/status':
        case '/json/logon':
        case '/json/logoff':
          await this.coova.json(res, ip, url, path, secure);
          return;
        default:
          send(res, 404, 'text/plain', 'not found\n');
      }
    } catch (e) {
      if (e instanceof BodyError) {
        send(res, e.status, 'text/plain', `${e.message}\n`);
        return;
      }
      this.o.logger.error('web request failed', { error: e instanceof Error ? e.message : String(e) });
      if (!res.headersSent) send(res, 500, 'text/plain', 'internal error\n');
      else res.destroy();
    }
  }

  private venue(): string {
    return this.o.settings.config['nas-id'];
  }

  private async captiveRedirect(req: IncomingMessage, res: ServerResponse, ip: string, host: string): Promise<void> {
    const client = await this.o.lookup.lookup(ip);
    if (client === undefined) {
      send(res, 403, 'text/plain', 'not a client of this portal\n');
      return;
    }
    const original = safeUserUrl(`http://${host}${req.url ?? '/'}`) ?? '';
    // A redirected connection must not be kept: after login the browser's
    // next request has to open a new one, which the firewall then forwards.
    res.setHeader('Connection', 'close');
    const existing = this.o.gateway.store.byMacAddress(client.mac);
    if (existing?.client.ipv4 === client.ipv4 && original !== '') {
      // Online already: this request came on a connection opened before the login.
      redirect(res, original);
      return;
    }
    if (existing === undefined && this.o.macAuth !== undefined) {
      const s = await this.o.macAuth(client);
      if (s !== undefined) {
        redirect(res, s.policy.redirectionUrl ?? (original === '' ? `${this.base(false)}/status` : original));
        return;
      }
    }
    redirect(res, this.coova.loginUrl(client, existing === undefined ? 'notyet' : 'already', original, existing));
  }

  private async getLogin(res: ServerResponse, ip: string, url: URL, secure: boolean): Promise<void> {
    const client = await this.o.lookup.lookup(ip);
    const session = client === undefined ? undefined : this.o.gateway.store.byMacAddress(client.mac);
    if (session !== undefined) {
      await this.getStatus(res, ip, secure);
      return;
    }
    // The original URL is taken only from a signed, unexpired redirect.
    const full = `${this.base(secure)}${url.pathname}${url.search}`;
    const userurl = url.searchParams.has('md') && verifyUrl(full, this.signer) ? safeUserUrl(url.searchParams.get('userurl')) : undefined;
    send(res, 200, 'text/html; charset=utf-8', loginPage({ venue: this.venue(), userurl, action: '/login' }));
  }

  private async getStatus(res: ServerResponse, ip: string, secure: boolean): Promise<void> {
    const client = await this.o.lookup.lookup(ip);
    const session = client === undefined ? undefined : this.o.gateway.store.byMacAddress(client.mac);
    if (session === undefined) {
      redirect(res, `${this.base(secure)}/login`);
      return;
    }
    const now = Date.now();
    send(
      res,
      200,
      'text/html; charset=utf-8',
      statusPage({
        venue: this.venue(),
        userName: session.userName,
        seconds: sessionTime(session, now),
        bytesIn: session.totals.bytesUp,
        bytesOut: session.totals.bytesDown,
        secondsLeft: secondsRemaining(session, now, this.o.gateway.defaults),
        logout: '/logout',
      }),
    );
  }

  /** Rate limit, then RADIUS. `undefined` client: not on our interface. */
  private async attempt(client: ClientKey, credentials: Credentials): Promise<AttemptResult> {
    if (!this.limiter.allow(client.mac)) {
      this.o.metrics.loginsRateLimited++;
      this.o.logger.notice('login rate limited', { mac: client.mac, ip: client.ipv4 });
      return { ok: false, message: 'Too many attempts; wait a minute.', status: 429 };
    }
    const r = await this.o.gateway.login(client, credentials);
    if (r.ok) return r;
    const message = r.replyMessage ?? (r.reason === 'rejected' ? 'Login failed: wrong user name or password.' : 'The authentication server did not answer; try again.');
    return { ok: false, message, status: r.reason === 'rejected' ? 401 : 503 };
  }

  private builtInCredentials(userName: string, password: string): Credentials {
    if (this.o.settings.config.radius.method === 'pap') return { kind: 'pap', userName, password };
    const chapId = randomBytes(1)[0] ?? 0;
    const challenge = randomBytes(16);
    return { kind: 'chap', userName, chapId, challenge, response: chapResponse(chapId, password, challenge) };
  }

  private async postLogin(res: ServerResponse, ip: string, form: URLSearchParams, secure: boolean): Promise<void> {
    const client = await this.o.lookup.lookup(ip);
    if (client === undefined) {
      send(res, 403, 'text/html; charset=utf-8', messagePage(this.venue(), 'not here', 'This device is not a client of this portal.'));
      return;
    }
    const userName = form.get('username') ?? '';
    const password = form.get('password') ?? '';
    const userurl = safeUserUrl(form.get('userurl'));
    if (userName === '' || userName.length > 253 || password.length > 128) {
      send(res, 400, 'text/html; charset=utf-8', loginPage({ venue: this.venue(), userurl, action: '/login', error: 'Give a user name and a password.' }));
      return;
    }
    const r = await this.attempt(client, this.builtInCredentials(userName, password));
    if (!r.ok) {
      send(res, r.status, 'text/html; charset=utf-8', loginPage({ venue: this.venue(), userurl, action: '/login', error: r.message }));
      return;
    }
    redirect(res, r.session.policy.redirectionUrl ?? userurl ?? `${this.base(secure)}/status`);
  }

  private async logout(res: ServerResponse, ip: string, uam: boolean): Promise<void> {
    const client = await this.o.lookup.lookup(ip);
    const session = client === undefined ? undefined : this.o.gateway.store.byMacAddress(client.mac);
    if (session !== undefined) await this.o.gateway.logout(session, TERMINATE_CAUSE.userRequest);
    if (uam && client !== undefined && this.o.settings.config.web['login-url'] !== undefined) {
      redirect(res, this.coova.loginUrl(client, 'logoff', ''));
      return;
    }
    send(res, 200, 'text/html; charset=utf-8', messagePage(this.venue(), 'logged out', session === undefined ? 'You were not logged in.' : 'You are logged out.'));
  }

  private async api(res: ServerResponse, ip: string, secure: boolean): Promise<void> {
    const client = await this.o.lookup.lookup(ip);
    const ctx = this.coova.context(client, secure);
    const body = captiveApi(ctx, `${ctx.base}/login`, this.o.settings.config.web['venue-url'], (s) => ({
      seconds: secondsRemaining(s, ctx.now, this.o.gateway.defaults),
      bytes: bytesRemaining(s),
    }));
    // RFC 8908 §5: the media type, and the answer must not be cached by others.
    send(res, 200, 'application/captive+json', `${JSON.stringify(body)}\n`, { 'Cache-Control': 'private' });
  }
}

function signerOf(s: PortalSettings): Signer {
  const secret = s.config.web['uam-secret'];
  // Without a uam-secret only the built-in page reads the signature: a per-start key will do.
  return { mode: s.config.web.md, secret: secret === undefined ? randomBytes(32) : Buffer.from(secret), lifetimeSeconds: s.config.web['md-lifetime'] };
}
