// Everything the renderers derive from a spec, computed once: names of
// datasets, the jail root, the directories to create, the port the daemon
// listens on, and each OS's expanded command line.
import { posix } from 'node:path';
import { expandPlaceholders } from './placeholders.js';
import type { JailSpec } from './spec-schema.js';

export type Variant = 'drop-privileges' | 'redirect';

export interface DeploymentPlan {
  readonly spec: JailSpec;
  readonly service: string;
  readonly jail: string;
  readonly description: string;
  /** Seed 001's two rc.d variants: start as root and drop to uid:gid, or `jexec -u USER` on an unprivileged port behind a PF rdr. */
  readonly variant: Variant;
  /** The jail's root directory on the host. */
  readonly root: string;
  /** Whether the jail dataset needs its own mountpoint (the root is not under zfs.mountpoint). */
  readonly explicitMountpoint: boolean;
  readonly datasets: { readonly jails: string; readonly jail: string; readonly logs: string; readonly log: string };
  /** The log directory as the host sees it. */
  readonly hostLogDir: string;
  /** Directories inside the jail, created before the dataset turns read-only; sorted so parents come first. */
  readonly jailDirs: readonly string[];
  /** The port the daemon binds on FreeBSD: the redirect port in the second variant. */
  readonly freebsdListenPort: number;
  /** Argument vectors without the binary. */
  readonly freebsdArgs: readonly string[];
  readonly linuxArgs: readonly string[];
  /** uid and gid when runAs is numeric. */
  readonly uid?: string;
  readonly gid?: string;
  /** The host user for `jexec -u` when runAs is a name. */
  readonly user?: string;
  /** The daemon enters the jail itself (--jail on FreeBSD, --chroot on Linux): the jail holds no executable. */
  readonly selfJail: boolean;
  /** Where the binary is, as the host sees it: in the jail, or (selfJail) the host path itself. */
  readonly hostBinary: string;
}

export function planDeployment(spec: JailSpec): DeploymentPlan {
  const jail = spec.jail ?? spec.service;
  const variant: Variant = spec.redirect === undefined ? 'drop-privileges' : 'redirect';
  const defaultRoot = posix.join(spec.zfs.mountpoint, jail);
  const root = spec.root ?? defaultRoot;
  const jailsDataset = `${spec.zfs.pool}/${spec.zfs.jails}`;
  const logsDataset = `${spec.zfs.pool}/${spec.zfs.logs}`;
  const ids = /^(\d+):(\d+)$/.exec(spec.runAs);
  const freebsdListenPort = spec.redirect?.port ?? spec.port;

  const dirs = new Set<string>();
  const addDir = (d: string): void => {
    // Every ancestor too, so that `mkdir` without -p would also work and the list documents the tree.
    for (let p = d; p !== '/' && !dirs.has(p); p = posix.dirname(p)) dirs.add(p);
  };
  // A self-jailing daemon lives on the host: nothing of it is in the jail.
  if (!spec.selfJail) addDir(posix.dirname(spec.binary));
  addDir(spec.logDir);
  for (const m of spec.mounts) addDir(m.to);
  for (const f of spec.files) addDir(posix.dirname(f.to));

  const common = { address: spec.address, logDir: spec.logDir, jail, service: spec.service };
  const freebsdValues: Record<string, string> = { ...common, port: String(freebsdListenPort) };
  // Started on the host, a self-jailing daemon writes its pidfile before it enters the jail: the host's path.
  if (spec.pidfile !== undefined) freebsdValues.pidfile = spec.selfJail ? posix.join(root, spec.pidfile) : spec.pidfile;
  if (ids) {
    freebsdValues.uid = ids[1] ?? '';
    freebsdValues.gid = ids[2] ?? '';
  } else {
    freebsdValues.user = spec.runAs;
  }
  const linuxValues: Record<string, string> = { ...common, port: String(spec.port) };
  if (spec.selfJail && ids) {
    linuxValues.uid = ids[1] ?? '';
    linuxValues.gid = ids[2] ?? '';
  }

  return {
    spec,
    service: spec.service,
    jail,
    description: spec.description ?? `${spec.service} in the OS-less jail ${jail}`,
    variant,
    root,
    explicitMountpoint: root !== defaultRoot,
    datasets: { jails: jailsDataset, jail: `${jailsDataset}/${jail}`, logs: logsDataset, log: `${logsDataset}/${jail}` },
    hostLogDir: posix.join(root, spec.logDir),
    jailDirs: [...dirs].sort(),
    freebsdListenPort,
    freebsdArgs: [...[...spec.args, ...spec.freebsd.args].map((a) => expandPlaceholders(a, freebsdValues)), ...(spec.selfJail ? ['--jail', jail] : [])],
    linuxArgs: [...[...spec.args, ...spec.linux.args].map((a) => expandPlaceholders(a, linuxValues)), ...(spec.selfJail ? ['--chroot', root] : [])],
    selfJail: spec.selfJail,
    hostBinary: spec.selfJail ? spec.binary : posix.join(root, spec.binary),
    ...(ids ? { uid: ids[1] ?? '', gid: ids[2] ?? '' } : { user: spec.runAs }),
  };
}

/** A path inside the jail as the host sees it. */
export function hostPath(plan: DeploymentPlan, jailPath: string): string {
  return posix.join(plan.root, jailPath);
}
