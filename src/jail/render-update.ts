// "Initial deploy documentation is inadequate without how to deploy a
// routine update" (seed 001): make the jail dataset writable just long
// enough to install the new binary, then restart and check. The script puts
// readonly=on back even when a step fails.
import { hostPath, type DeploymentPlan } from './deployment-plan.js';
import { shQuote } from './sh-quote.js';

export function renderUpdateScript(plan: DeploymentPlan): string {
  const q = shQuote;
  const ds = q(plan.datasets.jail);
  if (plan.selfJail && plan.spec.files.length === 0) {
    // The daemon is the host's: the jail, read-only and exec=off, is not touched.
    return [
      '#!/bin/sh',
      `# Routine update of ${plan.service}, which enters the jail ${plan.jail} itself (moat jail render).`,
      '# Run as root on the host, after the build user has rebuilt the binary.',
      'set -eu',
      '',
      plan.spec.install === plan.hostBinary ? `# ${plan.hostBinary} is updated on the host (pkg, npm, moat root sea); then:` : `install -v -m 0555 ${q(plan.spec.install)} ${q(plan.hostBinary)}`,
      '',
      `service ${q(plan.service)} restart`,
      `service ${q(plan.service)} status`,
      `tail -n 20 ${q(`${plan.hostLogDir}/stderr`)}`,
      '',
    ].join('\n');
  }
  return [
    '#!/bin/sh',
    `# Routine update of ${plan.service} in the jail ${plan.jail} (moat jail render).`,
    '# Run as root outside the jails, after the build user has rebuilt the binary.',
    'set -eu',
    '',
    `zfs set readonly=off ${ds}`,
    '# Whatever happens below, the jail goes back to read-only.',
    // The trap's text is run by the shell again later, so it is quoted twice.
    `trap ${q(`zfs set readonly=on ${ds}`)} EXIT`,
    `install -v -m 0555 ${q(plan.spec.install)} ${q(plan.hostBinary)}`,
    ...plan.spec.files.map((f) => `install -v -m ${f.mode} ${q(f.from)} ${q(hostPath(plan, f.to))}`),
    `zfs set readonly=on ${ds}`,
    'trap - EXIT',
    '',
    `service ${q(plan.service)} restart`,
    `service ${q(plan.service)} status`,
    `tail -n 20 ${q(`${plan.hostLogDir}/stderr`)}`,
    '',
  ].join('\n');
}

export function renderUpdateDoc(plan: DeploymentPlan): string {
  const build = plan.spec.build ?? 'rebuild the binary statically, so that the jail needs no libraries';
  return [
    `UPDATING ${plan.service} IN THE JAIL ${plan.jail}`,
    '',
    '1. As the unprivileged build user, update the sources and rebuild:',
    '',
    `       ${build}`,
    '',
    `   The result must be at ${plan.spec.install}.`,
    '',
    '2. As root, outside the jails, run update.sh. It does:',
    '',
    `       zfs set readonly=off ${plan.datasets.jail}`,
    `       install -v -m 0555 ${shQuote(plan.spec.install)} ${shQuote(plan.hostBinary)}`,
    ...plan.spec.files.map((f) => `       install -v -m ${f.mode} ${shQuote(f.from)} ${shQuote(hostPath(plan, f.to))}`),
    `       zfs set readonly=on ${plan.datasets.jail}`,
    `       service ${plan.service} restart`,
    `       service ${plan.service} status`,
    '',
    '   and puts readonly=on back even when the install fails.',
    '',
    `3. Read the daemon's output in ${plan.hostLogDir}/stderr.`,
    '',
    ...(plan.selfJail
      ? ['The jail holds no executable at all: the daemon is the host\'s and enters', 'the jail itself, so updates of the host (freebsd-update, pkg) reach it.']
      : [
          'Nothing else in the jail needs updates: it holds one static binary and no',
          'shell, libraries or setuid files. Updates of the host itself (freebsd-update,',
          'pkg) do not touch the jail.',
        ]),
    '',
  ].join('\n');
}
