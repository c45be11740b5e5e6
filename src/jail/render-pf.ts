// The PF rdr rule for the second variant (seed 001): the daemon listens on
// an unprivileged port inside the jail, and PF sends the public port there.
import type { DeploymentPlan } from './deployment-plan.js';

export function renderPfConf(plan: DeploymentPlan): string | undefined {
  const r = plan.spec.redirect;
  if (r === undefined) return undefined;
  const macro = `${plan.service}_rdr_ifs`;
  const ifs = r.interfaces.length === 1 ? (r.interfaces[0] ?? '') : `{ ${r.interfaces.join(', ')} }`;
  const lines = [
    `# /etc/pf.conf lines for ${plan.service} (moat jail render): the macro with the`,
    '# other macros at the top, the rdr rule with the other translation rules.',
    `${macro}="${ifs}"`,
    `rdr on $${macro} proto tcp from any to ${r.publicAddress} port ${plan.spec.port} -> ${plan.spec.address} port ${r.port}`,
    '#',
    '# WARNING: without a VIMAGE kernel, connections from this host and its other',
    '# jails reach the jail over lo0. Keep lo0 in the list above to redirect them',
    '# too, and do NOT "set skip on lo0": PF would never see them, and local',
    `# clients would get no answer on port ${plan.spec.port}.`,
    '#',
    '# There is deliberately no nat rule for the jail address: traffic can come in',
    '# but the jail cannot open connections out to the world.',
  ];
  if (!r.interfaces.includes('lo0')) {
    lines.push('# (lo0 is not in the list: only remote traffic is redirected.)');
  }
  return `${lines.join('\n')}\n`;
}
