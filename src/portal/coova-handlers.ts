// CoovaChilli's interface for external login pages: the signed redirect
// parameters (uamip, uamport, challenge, mac, ...), /logon with a CHAP
// response or an XOR-hidden password, and the JSON interface (/json/status,
// /json/logon, /json/logoff). The web server (web-server.ts) routes to it.
import type { ServerResponse } from 'node:http';
import type { ClientLookup } from './client-lookup.js';
import type { Gateway } from './gateway.js';
import { redirect, send } from './http-reply.js';
import { type JsonContext, jsonLogoff, jsonLogon, jsonStatus, jsonp } from './json-interface.js';
import type { PortalSettings } from './portal-config.js';
import type { ClientKey, Credentials } from './ports.js';
import type { Session } from './session.js';
import { type Challenges, decodeUamPassword, pageChallenge, safeUserUrl, signedUrl, type Signer, type UamParams } from './uam.js';

export type AttemptResult = { ok: true; session: Session } | { ok: false; message: string; status: number };

/** What the handlers need from the web server; read afresh on each request, as a reload replaces them. */
export interface CoovaHost {
  options(): { settings: PortalSettings; gateway: Gateway; lookup: Pick<ClientLookup, 'lookup'> };
  signer(): Signer;
  readonly challenges: Challenges;
  /** The portal's own base URL, http or https. */
  base(secure: boolean): string;
  /** A login, rate limited. */
  attempt(client: ClientKey, credentials: Credentials): Promise<AttemptResult>;
}

export class CoovaHandlers {
  constructor(private readonly h: CoovaHost) {}

  private uamParams(client: ClientKey, res: UamParams['res'], userurl: string, session?: Session, reply?: string): UamParams {
    const s = this.h.options().settings;
    const challenge = pageChallenge(this.h.challenges.get(client.mac), undefined).toString('hex');
    return {
      res,
      uamip: s.gateway,
      uamport: s.config.web.port,
      challenge,
      called: s.config['nas-id'],
      mac: client.mac.toUpperCase().replace(/:/g, '-'),
      ip: client.ipv4,
      nasid: s.config['nas-id'],
      sessionid: session?.id ?? '',
      userurl,
      ...(reply === undefined ? {} : { reply }),
    };
  }

  loginUrl(client: ClientKey, res: UamParams['res'], userurl: string, session?: Session, reply?: string): string {
    const external = this.h.options().settings.config.web['login-url'];
    return signedUrl(external ?? `${this.h.base(false)}/login`, this.uamParams(client, res, userurl, session, reply), this.h.signer());
  }

  /** CoovaChilli's /logon: username with response (CHAP) or password (hex, XORed), from an external page. */
  private credentialsFromUam(client: ClientKey, q: URLSearchParams): Credentials | undefined {
    const userName = q.get('username') ?? q.get('UserName') ?? '';
    if (userName === '' || userName.length > 253) return undefined;
    const secret = this.h.options().settings.config.web['uam-secret'];
    const challenge = pageChallenge(this.h.challenges.get(client.mac), secret === undefined ? undefined : Buffer.from(secret));
    const response = q.get('response');
    if (response !== null) {
      if (!/^[0-9a-f]{32}$/i.test(response)) return undefined;
      // CoovaChilli's pages use CHAP identifier 0 with the page challenge.
      return { kind: 'chap', userName, chapId: 0, challenge, response: Buffer.from(response, 'hex') };
    }
    const hex = q.get('password');
    const password = hex === null ? undefined : decodeUamPassword(hex, challenge);
    return password === undefined ? undefined : { kind: 'pap', userName, password };
  }

  async uamLogon(res: ServerResponse, ip: string, url: URL): Promise<void> {
    const client = await this.h.options().lookup.lookup(ip);
    if (client === undefined) {
      send(res, 403, 'text/plain', 'not a client of this portal\n');
      return;
    }
    const userurl = safeUserUrl(url.searchParams.get('userurl')) ?? '';
    const credentials = this.credentialsFromUam(client, url.searchParams);
    if (credentials === undefined) {
      redirect(res, this.loginUrl(client, 'failed', userurl, undefined, 'bad request'));
      return;
    }
    const r = await this.h.attempt(client, credentials);
    this.h.challenges.forget(client.mac);
    redirect(res, r.ok ? this.loginUrl(client, 'success', r.session.policy.redirectionUrl ?? userurl, r.session) : this.loginUrl(client, 'failed', userurl, undefined, r.message));
  }

  context(client: ClientKey | undefined, secure: boolean): JsonContext {
    return {
      settings: this.h.options().settings,
      gateway: this.h.options().gateway,
      client,
      session: client === undefined ? undefined : this.h.options().gateway.store.byMacAddress(client.mac),
      challenge: client === undefined ? '' : this.h.challenges.get(client.mac).toString('hex'),
      base: this.h.base(secure),
      now: Date.now(),
    };
  }

  async json(res: ServerResponse, ip: string, url: URL, path: string, secure: boolean): Promise<void> {
    const client = await this.h.options().lookup.lookup(ip);
    const callback = url.searchParams.get('callback');
    let body: unknown;
    if (path === '/json/status' || client === undefined) body = jsonStatus(this.context(client, secure));
    else if (path === '/json/logoff') body = await jsonLogoff(this.context(client, secure));
    else {
      const q = url.searchParams;
      const pw = q.get('password');
      // The JSON interface takes a CHAP response or, as CoovaChilli's does, a plain password (use it over HTTPS).
      const credentials: Credentials | undefined =
        q.get('response') !== null ? this.credentialsFromUam(client, q) : pw !== null && (q.get('username') ?? '') !== '' ? { kind: 'pap', userName: q.get('username') ?? '', password: pw } : undefined;
      body = await jsonLogon(this.context(client, secure), credentials, (c) => this.h.attempt(client, c));
      this.h.challenges.forget(client.mac);
    }
    const out = jsonp(body, callback);
    if (out === undefined) {
      send(res, 400, 'text/plain', 'bad callback name\n');
      return;
    }
    send(res, 200, out.type, out.text);
  }
}
