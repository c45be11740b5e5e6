// Pinning an authorised client's address to its MAC in the gateway's
// neighbour table (ip-neighbour(8) `nud permanent`). Without it, a second
// client that answers ARP or neighbour discovery for the same address takes
// the gateway's entry and receives the first client's traffic; the firewall's
// MAC binding stops the copy from sending, this stops it from receiving.
// Lines for `ip -force -batch -` (ip(8) -batch): concurrent logins share one
// process, as their nft changes do.

/** ip -batch line that pins `address` to `mac` (the family follows the address). */
export function pinLine(address: string, mac: string, ifname: string): string {
  return `neigh replace ${address} lladdr ${mac} dev ${ifname} nud permanent`;
}

export function unpinLine(address: string, ifname: string): string {
  return `neigh del ${address} dev ${ifname}`;
}

export function ipBatchArgv(ip: string): string[] {
  return [ip, '-force', '-batch', '-'];
}
