// What every renderer returns: files to write under --out, and warnings to
// print (the legacy-apple crypto profile, a guest not rendered…).

export const TARGETS = ['freebsd', 'openbsd', 'netbsd', 'linux-ifupdown', 'linux-netplan', 'linux-networkd', 'linux-ip'] as const;
export type Target = (typeof TARGETS)[number];

export interface RenderedFile {
  /** Relative to --out: MACHINE/etc/…, as the file sits on that machine. */
  readonly path: string;
  readonly content: string;
  readonly mode?: number;
}

export interface RenderResult {
  readonly files: RenderedFile[];
  readonly warnings: string[];
}

/** The OS family a target renders for. */
export function targetFamily(target: Target): 'freebsd' | 'openbsd' | 'netbsd' | 'linux' {
  return target.startsWith('linux-') ? 'linux' : (target as 'freebsd' | 'openbsd' | 'netbsd');
}

/** Compare release strings such as 5.9 and 7.6 numerically. */
export function releaseAtLeast(release: string, min: string): boolean {
  const [a = 0, b = 0] = release.split('.').map(Number);
  const [c = 0, d = 0] = min.split('.').map(Number);
  return a !== c ? a > c : b >= d;
}

/** Join lines with a final newline. */
export function lines(...parts: (string | false | undefined)[]): string {
  return `${parts.filter((p): p is string => typeof p === 'string').join('\n')}\n`;
}
