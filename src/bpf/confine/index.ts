// Confinement: splice a jail in front of a tenant's filter, and prove it.
export { confine, checkConfined, jailFilter, type ConfineOptions } from './confine.js';
export { checkConfinement, MAX_STATES, type CheckResult } from './checker.js';
export { linkLayer, MAX_VLAN_TAGS, SUPPORTED as CONFINE_LINKTYPES, type Cond, type LinkLayer, type LinkNode } from './link-layers.js';
export { MAX_RADIOTAP_WORDS } from './link-layers-var.js';
export { parseJailAddresses, parseIPv6, type JailAddresses } from './addresses.js';
export { acceptAlternatives, type ConfinePolicy } from './policy.js';
