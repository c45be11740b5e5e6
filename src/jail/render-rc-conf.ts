// rc.conf(5) lines (seed 001). extra_netfs_types=nullfs orders the nullfs
// mounts after the ZFS ones even on releases without the fstab "late" flag.
import type { DeploymentPlan } from './deployment-plan.js';

/** rc.d's default place for local scripts; anywhere else must be added to local_startup. */
export const DEFAULT_RC_DIR = '/usr/local/etc/rc.d';

export function renderRcConf(plan: DeploymentPlan): string {
  const { spec } = plan;
  const lines = [`# /etc/rc.conf lines for ${plan.service} (moat jail render)`];
  if (spec.freebsd.rcDir !== DEFAULT_RC_DIR) {
    // Double quotes on purpose: $local_startup must expand. The schema keeps rcDir free of shell characters.
    lines.push(`local_startup="${spec.freebsd.rcDir} $local_startup"`);
  }
  if (spec.mounts.length > 0) {
    lines.push('# If extra_netfs_types is already set, add nullfs to it instead.', 'extra_netfs_types="nullfs"');
  }
  lines.push(
    // rc.conf(5), FreeBSD rc.d/jail (rcvar=jail_enable): the jails start at
    // boot only with jail_enable; without it the jail is not running and the
    // service's prestart refuses to start.
    'jail_enable="YES"',
    // rc.conf(5): an empty jail_list means every jail in jail.conf, so the
    // list is left alone unless the host already names its jails.
    `# If jail_list is set, add the jail to it: jail_list="$jail_list ${plan.jail}"`,
    `${plan.service}_enable="YES"`,
    '',
  );
  return lines.join('\n');
}
