// The Linux rendering of the same deployment: a systemd service whose root
// is the jail directory (built by `moat root build`), run as a non-root
// user, with every sandboxing setting that `systemd-analyze security`
// scores (systemd.exec(5), systemd.resource-control(5)). The host opens the
// log files, as rc.d does on FreeBSD, so nothing in the root is writable.
// With selfJail the daemon is the host's and confines itself (--chroot ROOT,
// after binding and before dropping to runAs): the root is mounted read-only
// and noexec, holds no executable, and the unit grants exactly what that
// needs (CAP_SYS_CHROOT, CAP_SETUID, CAP_SETGID; chroot(2) in the filter).
import { isIPv6 } from 'node:net';
import { posix } from 'node:path';
import type { DeploymentPlan } from './deployment-plan.js';
import { systemdCommandLine, systemdPath } from './systemd-quote.js';

/** Below this port binding needs CAP_NET_BIND_SERVICE (ip(7)). */
const PRIVILEGED_PORT_LIMIT = 1024;

/** Where the dynamic loader maps libraries from: NoExecPaths=/ would forbid them. "-" tolerates a missing one. */
const LIBRARY_DIRS = ['/lib', '/lib64', '/usr/lib', '/usr/lib64'];

/** What a self-confining daemon needs: chroot(2), then setgroups/setgid/setuid (capabilities(7)). */
const SELF_JAIL_CAPS = ['CAP_SYS_CHROOT', 'CAP_SETUID', 'CAP_SETGID'];

export function renderSystemdUnit(plan: DeploymentPlan): string {
  const { spec } = plan;
  const self = plan.selfJail;
  const activated = spec.linux.socketActivation;
  // A passed socket needs no bind privilege; otherwise a low port does (ip(7)).
  const needsBindCap = !activated && spec.port < PRIVILEGED_PORT_LIMIT;
  const underHome = (p: string): boolean => p === '/home' || p.startsWith('/home/');
  const homeMounted = spec.mounts.some((m) => underHome(m.to));
  // Self-confined, mounts land under the root on the host; a source under /home must stay visible.
  const protectHome = self ? (spec.mounts.some((m) => underHome(m.from)) ? 'read-only' : 'yes') : homeMounted ? 'tmpfs' : 'yes';
  // RestrictAddressFamilies= filters socket(2) only: accept(2) on a passed socket still works with none.
  const families = activated && spec.linux.addressFamilies.length === 0 ? ['none'] : [...(activated ? [] : ['AF_INET', 'AF_INET6']), ...spec.linux.addressFamilies];
  // Self-confined, it starts as root and drops itself to runAs.
  const identity = self ? [] : spec.linux.user === 'dynamic' ? ['DynamicUser=yes'] : [`User=${spec.linux.user}`, `Group=${spec.linux.user}`];
  const caps = [...(self ? SELF_JAIL_CAPS : []), ...(needsBindCap ? ['CAP_NET_BIND_SERVICE'] : [])];
  const lines = [
    `# ${plan.service}.service: ${plan.service} in an OS-less root (moat jail render).`,
    `# Install as /etc/systemd/system/${plan.service}.service; the root ${plan.root}`,
    ...(self
      ? ['# holds data only: the daemon runs from the host and chroots itself into it.']
      : ['# must hold the binary and its libraries (moat root build makes one).']),
    '[Unit]',
    // Description= and the paths below expand %-specifiers (systemd.unit(5)).
    `Description=${plan.description.replace(/%/g, '%%')}`,
    'Documentation=man:moat-jail(8)',
    ...(activated
      ? [`Requires=${plan.service}.socket`, `After=${plan.service}.socket`]
      : ['Wants=network-online.target', 'After=network-online.target']),
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${systemdCommandLine([spec.binary, ...plan.linuxArgs])}`,
    'Restart=on-failure',
    ...(self ? [] : [`RootDirectory=${systemdPath(plan.root)}`]),
    ...identity,
    ...(self
      ? [
          '# The root the daemon chroots into: its own read-only, noexec mount in',
          '# this unit, with the homes bound in below it.',
          `BindReadOnlyPaths=${systemdPath(plan.root)}`,
          `NoExecPaths=${systemdPath(plan.root)}`,
          ...spec.mounts.map((m) => `BindReadOnlyPaths=${systemdPath(m.from)}:${systemdPath(posix.join(plan.root, m.to))}`),
        ]
      : spec.mounts.map((m) => `BindReadOnlyPaths=${systemdPath(m.from)}:${systemdPath(m.to)}`)),
    // Opened by the service manager on the host side, like the rc.d script's
    // redirections: the daemon needs no writable directory at all.
    `StandardOutput=append:${systemdPath(posix.join(plan.hostLogDir, 'stdout'))}`,
    `StandardError=append:${systemdPath(posix.join(plan.hostLogDir, 'stderr'))}`,
    '',
    '# The file system: read-only, nothing executable but the binary and its libraries.',
    'ProtectSystem=strict',
    // tmpfs rather than yes when homes are bound in: the bind mounts must show through (systemd.exec(5)).
    `ProtectHome=${protectHome}`,
    'NoExecPaths=/',
    // The binary itself rather than its directory, so that a binary at / does not make everything executable.
    // Self-confined, moat's native addon beside it is mapped executable too, before the chroot.
    `ExecPaths=${[systemdPath(spec.binary), ...(self ? [`-${systemdPath(posix.join(posix.dirname(spec.binary), 'moat-native.node'))}`] : []), ...LIBRARY_DIRS.map((d) => `-${d}`)].join(' ')}`,
    'PrivateTmp=yes',
    'PrivateDevices=yes',
    'DevicePolicy=closed',
    'PrivateMounts=yes',
    'PrivateIPC=yes',
    'UMask=0077',
    '',
    '# Identity and privilege.',
    'NoNewPrivileges=yes',
    `CapabilityBoundingSet=${caps.join(' ')}`,
    ...(self
      ? // Root keeps its bounding set without ambient ones; a user namespace would leave runAs unmapped.
        ['AmbientCapabilities=']
      : needsBindCap
        ? ['AmbientCapabilities=CAP_NET_BIND_SERVICE']
        : // In a user namespace the bind capability would not count against the host's network namespace, so only without it.
          ['AmbientCapabilities=', 'PrivateUsers=yes']),
    'RestrictSUIDSGID=yes',
    'RemoveIPC=yes',
    'KeyringMode=private',
    'LockPersonality=yes',
    `MemoryDenyWriteExecute=${spec.linux.memoryDenyWriteExecute ? 'yes' : 'no'}`,
    'RestrictRealtime=yes',
    'RestrictNamespaces=yes',
    '',
    '# The kernel and the rest of the system.',
    'ProtectKernelTunables=yes',
    'ProtectKernelModules=yes',
    'ProtectKernelLogs=yes',
    'ProtectControlGroups=yes',
    'ProtectClock=yes',
    'ProtectHostname=yes',
    'ProtectProc=invisible',
    'ProcSubset=pid',
    'NotifyAccess=none',
    '',
    '# System calls.',
    'SystemCallArchitectures=native',
    // @privileged holds chroot(2) and the set*id calls a self-confining daemon needs; @system-service has the latter.
    ...(self ? ['SystemCallFilter=@system-service chroot', 'SystemCallFilter=~@resources'] : ['SystemCallFilter=@system-service', 'SystemCallFilter=~@privileged @resources']),
    'SystemCallErrorNumber=EPERM',
    '',
    ...(activated
      ? [
          `# The network: only the socket that ${plan.service}.socket passes in. Its`,
          '# connections are filtered by the socket unit, which created it.',
          'PrivateNetwork=yes',
          `RestrictAddressFamilies=${families.join(' ')}`,
          'IPAddressDeny=any',
          'SocketBindDeny=any',
        ]
      : [
          '# The network: one listening port, no raw or exotic sockets.',
          `RestrictAddressFamilies=${families.join(' ')}`,
          'IPAddressDeny=any',
          `IPAddressAllow=${spec.linux.ipAllow.join(' ')}`,
          'SocketBindDeny=any',
          `SocketBindAllow=tcp:${spec.port}`,
        ]),
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ];
  return lines.join('\n');
}

/** The socket unit for socket activation, or undefined without it (systemd.socket(5)). */
export function renderSystemdSocket(plan: DeploymentPlan): string | undefined {
  const { spec } = plan;
  if (!spec.linux.socketActivation) return undefined;
  const host = isIPv6(spec.address) ? `[${spec.address}]` : spec.address;
  return [
    `# ${plan.service}.socket: systemd listens, and starts ${plan.service}.service with the socket (moat jail render).`,
    '[Unit]',
    `Description=${plan.description.replace(/%/g, '%%')} (socket)`,
    'Documentation=man:moat-jail(8)',
    '',
    '[Socket]',
    `ListenStream=${host}:${spec.port}`,
    // The address may not be configured yet when sockets.target is reached.
    'FreeBind=yes',
    'Accept=no',
    // The accepted connections inherit this unit's address filter.
    'IPAddressDeny=any',
    `IPAddressAllow=${spec.linux.ipAllow.join(' ')}`,
    '',
    '[Install]',
    'WantedBy=sockets.target',
    '',
  ].join('\n');
}
