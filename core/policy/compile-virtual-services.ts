import type { SpecVirtualService } from "../spec/virtual-services";
import type { Policy } from "./model";
import { validateVirtualServices, type VirtualServiceIssue } from "./virtual-service-validate";

/**
 * A policy's enabled virtual services as the spec carries them. Throws when a service has
 * problems, naming each one, so a gateway is never sent a service it would refuse.
 */

export class VirtualServiceCompileError extends Error {
  readonly issues: VirtualServiceIssue[];
  constructor(issues: VirtualServiceIssue[], names: Map<string, string>) {
    const shown = issues.slice(0, 5).map((i) => {
      const name = i.serviceId === null ? undefined : names.get(i.serviceId);
      return `${name === undefined ? "a virtual service" : `virtual service "${name}"`}: ${i.message}`;
    });
    const more = issues.length > shown.length ? ` (and ${issues.length - shown.length} more)` : "";
    super(
      `the virtual services have ${issues.length} problem${issues.length === 1 ? "" : "s"}: ${shown.join("; ")}${more}`,
    );
    this.name = "VirtualServiceCompileError";
    this.issues = issues;
  }
}

export function compileVirtualServices(policy: Policy): SpecVirtualService[] {
  const services = policy.virtualServices ?? [];
  const issues = validateVirtualServices({
    virtualServices: services,
    pools: policy.pools,
    isps: policy.isps,
    settings: policy.settings,
  });
  if (issues.length > 0) throw new VirtualServiceCompileError(issues, new Map(services.map((s) => [s.id, s.name])));
  return services
    .filter((s) => s.enabled)
    .map((s) => ({
      id: s.id,
      name: s.name,
      address: s.address,
      fwmark: s.fwmark && { ...s.fwmark },
      protocol: s.protocol,
      port: s.port,
      scheduler: s.scheduler,
      persistenceSeconds: s.persistenceSeconds,
      sorryServer: s.sorryServer && { ...s.sorryServer },
      fullNat: s.fullNat,
      mode: s.realServers[0]?.mode ?? "nat",
      realServers: s.realServers.map((r) => ({
        address: r.address,
        port: r.port,
        weight: r.weight,
        state: r.state,
      })),
      healthCheck: { ...s.healthCheck },
    }));
}
