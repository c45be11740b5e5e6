// Confinement: splice a jail in front of a tenant's filter, and prove it.
export { confine, checkConfined, jailFilter, type ConfineOptions } from './confine.js';
export { checkConfinement, MAX_STATES, type CheckResult } from './checker.js';
export { linkLayer, MAX_VLAN_TAGS, type Cond, type LinkLayer } from './link-layers.js';
export { parseJailAddresses, parseIPv6, type JailAddresses } from './addresses.js';
export { witnesses, type ConfinePolicy } from './policy.js';
