// The jail.conf(5) block (seed 001): a persistent, empty jail. jail(8) runs
// exec.start through /bin/sh inside the jail, and an OS-less jail has no
// shell, so exec.start and exec.stop are empty and the rc.d script starts the
// daemon from outside with jexec(8).
import { isIPv6 } from 'node:net';
import type { DeploymentPlan } from './deployment-plan.js';

export function renderJailConf(plan: DeploymentPlan): string {
  const ipParam = isIPv6(plan.spec.address) ? 'ip6.addr' : 'ip4.addr';
  return [
    `# /etc/jail.conf block for ${plan.service} (moat jail render)`,
    `${plan.jail} {`,
    `\tpath = "${plan.root}";`,
    `\t${ipParam} = ${plan.spec.address};`,
    `\t# Not exec.start = "${plan.spec.binary} ...": jail(8) would need /bin/sh in the jail.`,
    '\texec.start = "";',
    '\texec.stop = "";',
    '\tpersist;',
    '\tmount.nodevfs;',
    '\tmount.nofdescfs;',
    '\tallow.noset_hostname;',
    '\t# The defaults, said again in case this jail.conf grants more to every jail.',
    '\tallow.noraw_sockets;',
    '\tallow.nosocket_af;',
    '\tallow.nomount;',
    '\tallow.nochflags;',
    '\tenforce_statfs = 2;',
    '\tchildren.max = 0;',
    '}',
    '',
  ].join('\n');
}
