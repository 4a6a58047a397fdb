import type { SpecIsp } from "../spec/schema";

/**
 * Interfaces that more than one ISP leaves by (one uplink to an exchange with two upstream
 * routers). Their ISPs are told apart by next hop: `rt ip nexthop` after routing, per-target
 * probe rules, and no answer from the interface-only lookup before routing.
 */
export function sharedInterfaces(isps: readonly SpecIsp[]): Set<string> {
  const seen = new Set<string>();
  const shared = new Set<string>();
  for (const isp of isps) {
    if (seen.has(isp.interface)) shared.add(isp.interface);
    seen.add(isp.interface);
  }
  return shared;
}
