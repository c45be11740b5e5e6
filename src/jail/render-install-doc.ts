// The order of the first deployment (seed 001), with the files this render
// wrote in the places they go.
import { posix } from 'node:path';
import { hostPath, type DeploymentPlan } from './deployment-plan.js';

export function renderInstallDoc(plan: DeploymentPlan): string {
  const { spec, service, jail } = plan;
  const rcPath = posix.join(spec.freebsd.rcDir, service);
  const steps: string[][] = [
    ['Create the datasets, the directories and the binary, as root:', `sh zfs-setup.sh`],
    ...(spec.mounts.length > 0
      ? [['Add fstab to /etc/fstab, then mount:', ...spec.mounts.map((m) => `mount ${hostPath(plan, m.to)}`)]]
      : []),
    ['Add the jail.conf block to /etc/jail.conf and start the empty jail:', `service jail start ${jail}`],
    ['Install the rc.d script:', `install -m 0755 rc.d/${service} ${rcPath}`],
    ['Add the rc.conf lines to /etc/rc.conf (or use sysrc(8)).'],
    ...(spec.redirect === undefined ? [] : [['Add the pf.conf lines to /etc/pf.conf, read its warning about lo0, and reload:', 'pfctl -nf /etc/pf.conf && pfctl -f /etc/pf.conf']]),
    ['Start the service and look at it:', `service ${service} start`, `service ${service} status`, `jls -j ${jail}`],
  ];
  const out = [`INSTALLING ${service} IN THE OS-LESS JAIL ${jail} (moat jail render)`, ''];
  steps.forEach(([what, ...commands], i) => {
    out.push(`${String(i + 1)}. ${what ?? ''}`);
    for (const c of commands) out.push(`       ${c}`);
    out.push('');
  });
  out.push(
    ...(plan.selfJail
      ? [
          `The jail holds no executable: ${spec.binary} runs from the host and enters it`,
          `itself. Its dataset is read-only, exec=off, setuid=off and devices=off; logs go`,
          `to ${plan.hostLogDir} (exec=off). For updates see UPDATE.`,
        ]
      : [
          `The jail holds only ${spec.binary}${spec.files.length > 0 ? ' and the copied files' : ''}; its dataset is read-only,`,
          `setuid=off and devices=off; logs go to ${plan.hostLogDir} (exec=off). For updates see UPDATE.`,
        ]),
    '',
  );
  return out.join('\n');
}
