// moat root: minimal roots from ELF library closures, and a safe ldd. This is
// the tool's public face: the library API, and its CLI registration.

export { main, USAGE } from './cli.js';
export { readElf, parseElfBuffer, NotElfError, machineName, type ElfInfo } from './elf-reader.js';
export { Tree, relativeTarget, type Hop, type Resolved } from './tree.js';
export { Resolver, closureObjects, treeOs, type Closure, type LoadedObject, type Missing } from './resolver.js';
export { compatible, defaultInterp, expandTokens, hwcapsSubdirs, systemDirs, type Target, type TargetOs } from './platform.js';
export { readLdSoConf } from './ld-so-conf.js';
export { parseElfHints, buildElfHints, readElfHints, parseLibMap, readLibMap, libMapLookup, type LibMap } from './freebsd-rtld.js';
export { formatLdd } from './ldd.js';
export { buildRoot, type BuildOptions, type BuildReport, type PathPair } from './build.js';
export { RootWriter, type WrittenFile } from './root-writer.js';
export { scanRoot, verifyRoot, loadManifest, parseManifest, type Manifest, type ManifestEntry, type Finding } from './manifest.js';
export { planExtras, type Extras } from './extras.js';
export { dlopenWarnings } from './dlopen-hints.js';
export { traceOpens, openedPaths } from './trace.js';
export { runInRoot, runArgv, resolveUser, type RunOptions } from './run-command.js';
export { buildSea, type SeaOptions, type SeaResult } from './sea.js';
