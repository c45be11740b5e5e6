// When FreeBSD's rc.d/routing adds defaultrouter relative to static_routes.
// The order decides whether "defaultrouter" plus a static host route to an
// off-link gateway works: the kernel refuses a default route through a
// gateway it cannot reach yet.
//
// Up to 9.x, static_inet put it first:
//   etc/rc.d/routing, $FreeBSD: releng/9.3/etc/rc.d/routing 253238$:
//   static_routes="_default ${static_routes}"
// From 10 on it comes last, after every static route:
//   etc/rc.d/routing, $FreeBSD: head/etc/rc.d/routing 278302$ (2015-02-06) and
//   $FreeBSD: release/10.4.0/etc/rc.d/routing 319220$:
//   static_routes="${static_routes} _default"
//   libexec/rc/rc.d/routing (today's main, where rc.d moved in 2018): the same,
//   after the _loopback route.
// 10.0 is the first release branched from head after 9.x; the releases read
// here are 9.3 (first) and 10.4, head of 2015 and main (last). The head
// revision that made the change was not pinned down: see moat-net(8) CAVEATS.
import { releaseAtLeast } from './render-types.js';

/** The release `check --os freebsd` judges by when --release is not given. */
export const FREEBSD_CURRENT = '15.0';
/** The first release whose rc.d/routing adds defaultrouter after static_routes. */
export const FREEBSD_DEFAULTROUTER_LAST_SINCE = '10.0';

/** Whether rc.d/routing of `release` adds defaultrouter after the static routes. */
export function defaultrouterLast(release: string): boolean {
  return releaseAtLeast(release, FREEBSD_DEFAULTROUTER_LAST_SINCE);
}
