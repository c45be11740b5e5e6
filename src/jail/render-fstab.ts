// fstab(5) lines for the read-only nullfs mounts (seed 001). nullfs is
// FreeBSD's bind mount; "late" defers it until after ZFS has mounted the
// jail, and noexec,nosuid keep the mounted files from running.
import { hostPath, type DeploymentPlan } from './deployment-plan.js';

export const NULLFS_OPTIONS = 'ro,late,noatime,noexec,nosuid';

export function renderFstab(plan: DeploymentPlan): string {
  const lines = [`# /etc/fstab lines for the jail ${plan.jail} (moat jail render); mount each with: mount JAIL-PATH`];
  // fstab(5) has no quoting; the schema keeps these paths free of spaces.
  for (const m of plan.spec.mounts) lines.push(`${m.from}\t${hostPath(plan, m.to)}\tnullfs\t${NULLFS_OPTIONS}\t0\t0`);
  if (plan.spec.mounts.length === 0) lines.push('# (this jail has no mounts)');
  return `${lines.join('\n')}\n`;
}
