import { isIPv4, ipv4ToBigInt } from "../address";
import type { InterfaceFact } from "../protocol/agent-api";
import { linkSubnet } from "./validate";
import type { VirtualService } from "./virtual-service";
import type { VirtualServiceIssue } from "./virtual-service-validate";
import { joinLabel } from "./wording";
import { virtualServiceFieldLabel } from "./virtual-service-validate";

/**
 * Checks a virtual service against what the gateways report about themselves (their interfaces
 * and addresses). Facts can be stale and are absent before a gateway enrolls, so these checks run
 * where an operator edits, not when a policy compiles: a gateway that reported no interfaces is
 * not judged.
 *
 * - A virtual address may not be an address a gateway already has on a subnet (its own LAN or
 *   uplink address): the gateway would answer it itself instead of passing connections on. /32s
 *   are left out: the agent adds those for on-link pools and virtual addresses.
 * - Direct routing (DR) forwards the client's packet unchanged to the real server's MAC address, so
 *   the real server must be on a subnet one of every gateway's interfaces is in.
 */

export interface GatewayFacts {
  name: string;
  interfaces: readonly InterfaceFact[];
}

interface OwnAddress {
  interfaceName: string;
  address: bigint;
  text: string;
  subnet: { start: bigint; end: bigint } | null;
}

function ownAddresses(g: GatewayFacts): OwnAddress[] {
  return g.interfaces.flatMap((i) =>
    i.addresses.flatMap((a) => {
      const host = a.split("/")[0] ?? "";
      if (!isIPv4(host)) return [];
      const link = a.includes("/") ? linkSubnet(a) : null;
      // a /32 (an address the agent added for a pool, say) puts no subnet on the link
      const subnet = link !== null && link.prefix < 32 ? link.subnet : null;
      return [{ interfaceName: i.name, address: ipv4ToBigInt(host), text: a, subnet }];
    }),
  );
}

const isLoopback = (name: string) => /^lo[0-9]*$/.test(name);

export function checkVirtualServiceFacts(
  service: Pick<VirtualService, "address" | "realServers">,
  gateways: readonly GatewayFacts[],
  serviceId: string | null = null,
): VirtualServiceIssue[] {
  const out: VirtualServiceIssue[] = [];
  const issue = (path: (string | number)[], message: string) =>
    out.push({ serviceId, path, message: joinLabel(virtualServiceFieldLabel(path), message) });
  // a service chosen by fwmark has no address of its own
  const vip = service.address !== null && isIPv4(service.address) ? ipv4ToBigInt(service.address) : null;
  for (const g of gateways) {
    const own = ownAddresses(g);
    if (own.length === 0) continue;
    // a /32 is what the agent adds for on-link pools and virtual addresses: not the gateway's own
    const same =
      vip === null
        ? undefined
        : own.find((a) => a.address === vip && a.subnet !== null && !isLoopback(a.interfaceName));
    if (same !== undefined) issue(["address"], `is gateway "${g.name}"'s own address on ${same.interfaceName}`);
    service.realServers.forEach((rs, i) => {
      if (rs.mode !== "dr" || !isIPv4(rs.address)) return;
      const a = ipv4ToBigInt(rs.address);
      const onLink = own.some(
        (o) => !isLoopback(o.interfaceName) && o.subnet !== null && o.subnet.start <= a && a <= o.subnet.end,
      );
      if (onLink) return;
      const subnets = own
        .filter((o) => !isLoopback(o.interfaceName) && o.subnet !== null)
        .map((o) => `${o.interfaceName} ${o.text}`);
      issue(
        ["realServers", i, "address"],
        `is on no subnet of gateway "${g.name}"'s interfaces (${subnets.join(", ") || "none with a subnet"}): direct routing (DR) needs the real server on a link the gateway shares`,
      );
    });
  }
  return out;
}
