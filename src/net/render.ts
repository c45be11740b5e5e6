// Render a spec for one target: the guests of that OS family (or the guests
// named with --guest, whatever their OS), the tunnel with the machine it ends
// on, the host's hypervisor lines when the host runs that family, and the
// VPN head-end for OpenBSD and Linux.
import { MoatError } from '../core/index.js';
import { CITE } from './citations.js';
import { renderFreebsdGuest, renderFreebsdHost, freebsdTunnelLines, qemuLine } from './render-freebsd.js';
import { linuxTunnelCommands, renderLinuxGuest } from './render-linux.js';
import { renderLinuxVpn } from './render-linux-vpn.js';
import { NETBSD_CURRENT, renderNetbsdGuest } from './render-netbsd.js';
import { OPENBSD_CURRENT, openbsdTunnel, renderOpenbsdGuest } from './render-openbsd.js';
import { LEGACY_APPLE_WARNING, renderOpenbsdVpn } from './render-openbsd-vpn.js';
import { lines, targetFamily, type RenderedFile, type RenderResult, type Target } from './render-types.js';
import { hostOf, type GuestSpec, type NetSpec } from './spec-schema.js';

export interface RenderOptions {
  readonly target: Target;
  /** Overrides each guest's own release (OpenBSD and NetBSD pick their forms by it). */
  readonly release?: string;
  /** Render exactly these guests in the target's form, whatever their own OS. */
  readonly guests?: readonly string[];
}

export function renderSpec(spec: NetSpec, options: RenderOptions): RenderResult {
  const { target } = options;
  const family = targetFamily(target);
  const files: RenderedFile[] = [];
  const warnings: string[] = [];
  const wanted = options.guests;
  if (wanted !== undefined) {
    for (const name of wanted) {
      if (!spec.guests.some((g) => g.name === name)) {
        throw new MoatError('MOAT_NET_NO_GUEST', `no guest named '${name}' in the spec`);
      }
    }
  }
  const guests = spec.guests.filter((g) => (wanted === undefined ? g.os === family : wanted.includes(g.name)));
  for (const g of guests) {
    const tunnel = spec.tunnel?.guest === g.name ? spec.tunnel : undefined;
    files.push(...renderGuest(spec, g, options, tunnel));
  }
  if (spec.host?.os === family && (spec.guests.length > 0 || spec.tunnel !== undefined)) {
    if (family === 'freebsd') files.push(...renderFreebsdHost(spec, spec.guests));
    else if (family === 'linux') files.push(...spec.guests.map((g) => qemuLine(spec, g)));
    if (spec.tunnel !== undefined && spec.tunnel.guest === undefined) files.push(...hostTunnel(spec, target));
  }
  // Jail redirects go in the FreeBSD host's pf.conf; on OpenBSD they join the head-end's.
  if (spec.host?.os === 'freebsd' && family === 'freebsd' && spec.jails.length > 0) files.push(freebsdJailPf(spec));
  if (spec.tunnel?.guest !== undefined && !spec.guests.some((g) => g.name === spec.tunnel?.guest)) {
    throw new MoatError('MOAT_NET_NO_GUEST', `tunnel.guest names '${spec.tunnel.guest}', which is not a guest`);
  }
  if (spec.vpn !== undefined) {
    if (family === 'openbsd') files.push(...renderOpenbsdVpn(spec, spec.vpn));
    else if (family === 'linux') files.push(...renderLinuxVpn(spec.vpn));
    else warnings.push(`the VPN head-end is rendered for openbsd and linux only, not ${target}`);
    if (spec.vpn.crypto === 'legacy-apple') warnings.push(LEGACY_APPLE_WARNING);
  }
  for (const f of spec.failover) {
    if (f.mac === undefined) warnings.push(`failover IP ${f.ip} has no MAC: the provider drops frames from any other MAC`);
  }
  if (files.length === 0) {
    throw new MoatError(
      'MOAT_NET_NOTHING',
      `nothing to render for ${target}: no guest runs ${family}, the host does not, and there is no VPN; name guests with --guest`,
    );
  }
  return { files, warnings };
}

function renderGuest(spec: NetSpec, g: GuestSpec, options: RenderOptions, tunnel: NetSpec['tunnel']): RenderedFile[] {
  const family = targetFamily(options.target);
  switch (family) {
    case 'freebsd':
      return renderFreebsdGuest(spec, g, tunnel);
    case 'openbsd':
      return renderOpenbsdGuest(spec, g, options.release ?? (g.os === 'openbsd' ? g.release : undefined) ?? OPENBSD_CURRENT, tunnel);
    case 'netbsd':
      return renderNetbsdGuest(spec, g, options.release ?? (g.os === 'netbsd' ? g.release : undefined) ?? NETBSD_CURRENT, tunnel);
    case 'linux':
      return renderLinuxGuest(spec, g, options.target, tunnel);
  }
}

/** A tunnel that ends on the host itself. */
function hostTunnel(spec: NetSpec, target: Target): RenderedFile[] {
  const t = spec.tunnel;
  if (t === undefined) return [];
  const h = hostOf(spec).name;
  if (target === 'freebsd') return [{ path: `${h}/etc/rc.conf.d/tunnel`, content: lines(...freebsdTunnelLines(t)) }];
  if (target === 'openbsd') return [openbsdTunnel(h, t)];
  // A Linux host: the sit tunnel as ip(8) commands, whatever the form of the guests.
  return [
    {
      path: `${h}/usr/local/sbin/moat-net-tunnel.sh`,
      mode: 0o755,
      content: lines('#!/bin/sh', `# ${CITE.ipTunnel}; routed prefix ${t.routed}`, 'set -e', ...linuxTunnelCommands(t)),
    },
  ];
}

function freebsdJailPf(spec: NetSpec): RenderedFile {
  const onLo = spec.jails.some((j) => j.redirect.interfaces.some((i) => /^lo\d*$/.test(i)));
  return {
    path: `${hostOf(spec).name}/etc/pf.conf`,
    content: lines(
      '# pf.conf(5) on FreeBSD: rdr rules come before filter rules.',
      onLo ? `# No "set skip on lo0": ${CITE.pfSkipLo}` : 'set skip on lo0',
      ...spec.jails.flatMap((j) =>
        j.redirect.interfaces.map(
          (i) => `rdr pass on ${i} proto ${j.protocol} from any to ${j.redirect.publicAddress} port ${String(j.port)} -> ${j.address} port ${String(j.redirect.port)}`,
        ),
      ),
    ),
  };
}
