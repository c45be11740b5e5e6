// moat portal's DHCP and DNS: dnsmasq, configured and watched by moat.
export {
  DETECTION_NAMES,
  DNSMASQ_CONFIG,
  checkCaptiveUrl,
  renderDnsmasqConfig,
  renderPreloginDnsmasqConfig,
  type DnsmasqCommon,
  type MainDnsmasqOptions,
  type PreloginDnsmasqOptions,
} from './config-render.js';
export {
  DNSMASQ_EXEC,
  DNSMASQ_START,
  checkDnsmasqConfigArgv,
  dnsmasqArgv,
  superviseDnsmasq,
  type DnsmasqLogger,
  type DnsmasqSupervisor,
  type SuperviseOptions,
} from './supervisor.js';
export { parseLeases, type Lease } from './leases.js';
