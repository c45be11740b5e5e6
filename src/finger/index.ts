// moat finger: a hardened RFC 1288 finger service. This is the tool's public
// face: the library API for embedding and tests, and its CLI registration.

export { main, settingsFromArgv, USAGE } from './cli.js';
export { startDaemon, type FingerDaemon, type DaemonOptions } from './daemon.js';
export { DEFAULTS, applyConfig, configSchema, loadConfigFile, parseTomlConfig, type FingerSettings, type ConfigFile } from './finger-config.js';
export { parseQuery, nameProblem, validHostname, type FingerQuery } from './query-parser.js';
export { parseAliases, loadAliases, type AliasTarget } from './aliases.js';
export { parsePasswd, loadPasswd, type PasswdEntry } from './passwd.js';
export { FileCache, type FileResult, type FileRefusal } from './file-cache.js';
export { UserDirectory, NO_SUCH_USER, LIST_OPT_IN, type Answer } from './user-directory.js';
export { Responder, FORWARD_DENIED, LIST_DENIED, BAD_QUERY, TOO_LONG } from './responder.js';
export { ConnectionLimiter, peerKey, type Admission } from './limits.js';
export { sanitizeText, neutralise } from './sanitize.js';
export { normaliseLegacyFlags } from './legacy-flags.js';
export { parseListenAddress, inheritedFds } from './listeners.js';
export { resolveRunAsUser, dropPrivileges } from './privileges.js';
export { forwardQuery } from './forwarder.js';
