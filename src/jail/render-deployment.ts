// Every file of a deployment, in memory: rendering never touches the disk,
// so a spec error, or any other failure, leaves the output directory alone.
import type { DeploymentPlan } from './deployment-plan.js';
import { renderFstab } from './render-fstab.js';
import { renderInstallDoc } from './render-install-doc.js';
import { renderJailConf } from './render-jail-conf.js';
import { renderPfConf } from './render-pf.js';
import { renderRcConf } from './render-rc-conf.js';
import { renderRcScript } from './render-rc-script.js';
import { renderSystemdSocket, renderSystemdUnit } from './render-systemd.js';
import { renderUpdateDoc, renderUpdateScript } from './render-update.js';
import { renderZfsSetup } from './render-zfs-setup.js';

export type TargetOs = 'freebsd' | 'linux';
export const TARGET_OSES: readonly TargetOs[] = ['freebsd', 'linux'];

export interface RenderedFile {
  /** Relative to the output directory, such as `freebsd/rc.d/fingerd`. */
  readonly path: string;
  readonly content: string;
  readonly mode: number;
}

const SCRIPT = 0o755;
const TEXT = 0o644;

export function renderDeployment(plan: DeploymentPlan, oses: readonly TargetOs[]): RenderedFile[] {
  const files: RenderedFile[] = [];
  if (oses.includes('freebsd')) {
    const f = (name: string, content: string, mode = TEXT): void => {
      files.push({ path: `freebsd/${name}`, content, mode });
    };
    f('INSTALL', renderInstallDoc(plan));
    f('zfs-setup.sh', renderZfsSetup(plan), SCRIPT);
    f('fstab', renderFstab(plan));
    f('jail.conf', renderJailConf(plan));
    f('rc.conf', renderRcConf(plan));
    f(`rc.d/${plan.service}`, renderRcScript(plan), SCRIPT);
    const pf = renderPfConf(plan);
    if (pf !== undefined) f('pf.conf', pf);
    f('UPDATE', renderUpdateDoc(plan));
    f('update.sh', renderUpdateScript(plan), SCRIPT);
  }
  if (oses.includes('linux')) {
    files.push({ path: `linux/${plan.service}.service`, content: renderSystemdUnit(plan), mode: TEXT });
    const socket = renderSystemdSocket(plan);
    if (socket !== undefined) files.push({ path: `linux/${plan.service}.socket`, content: socket, mode: TEXT });
  }
  return files;
}
