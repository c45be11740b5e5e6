// What the lint rules look at, gathered from any number of files: the
// address and route events in boot order, the NICs and their MACs, PF's
// skip and redirect rules, the IPsec crypto, and the npppd/pipex settings.
import type { Prefixed } from './address.js';

export interface Where {
  readonly file: string;
  readonly line: number;
}

export type RouteEvent =
  | (Where & { readonly kind: 'addr'; readonly prefix: Prefixed })
  /** A route that makes `dest` an on-link neighbour (host route -iface, pointopoint, GatewayOnLink). */
  | (Where & { readonly kind: 'onlink'; readonly dest: string })
  /** A default route through `gateway`; `onlink` when the route itself says so (ip … onlink). */
  | (Where & { readonly kind: 'default'; readonly gateway: string; readonly onlink: boolean });

/** An rc.conf(5) assignment, its value expanded as sh does when sourcing it. */
export interface RcVar extends Where {
  readonly name: string;
  readonly value: string;
}

/** An rc.conf-kind file: its lines, for the one shell rc.d/routing sources them into, and the release judged. */
export interface RcConf {
  readonly lines: readonly { text: string; line: number }[];
  readonly vars: readonly RcVar[];
  readonly release: string;
}

export interface FileFacts {
  readonly file: string;
  /** When the file is applied at boot, relative to the others: interface files, then static routes, then local scripts. */
  readonly rank: number;
  readonly routes: RouteEvent[];
  readonly macs: (Where & { mac: string })[];
  readonly nicsWithoutMac: Where[];
  readonly pfSkipLo: Where[];
  readonly pfRedirectOnLo: Where[];
  readonly pfL2tpPass: Where[];
  readonly legacyCrypto: (Where & { what: string })[];
  readonly npppdPppx: Where[];
  readonly pipexEnabled: Where[];
  readonly pipexDisabled: Where[];
  /** Set for rc.conf(5) files; their routes are judged together (lint-rc-conf.ts). */
  rc?: RcConf;
}

export function emptyFacts(file: string, rank: number): FileFacts {
  return {
    file,
    rank,
    routes: [],
    macs: [],
    nicsWithoutMac: [],
    pfSkipLo: [],
    pfRedirectOnLo: [],
    pfL2tpPass: [],
    legacyCrypto: [],
    npppdPppx: [],
    pipexEnabled: [],
    pipexDisabled: [],
  };
}
