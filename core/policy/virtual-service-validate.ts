import { ipv4ToBigInt, parseAddressRange } from "../address";
import { drTargetOf } from "../spec/marks";
import type { ClusterSettings, Isp, Policy, Pool } from "./model";
import { type Fwmark, formatFwmark } from "./match-criteria";
import { type VirtualService, zVirtualService } from "./virtual-service";
import { joinLabel, plainZodMessage } from "./wording";

/**
 * Checks a policy's virtual services: each against its schema, then against each other and the
 * rest of the policy (one service per address, protocol and port; no VIP that is a pool address
 * or the gateway's own; DR rules). Each issue names the field that has to change.
 */

export interface VirtualServiceIssue {
  /** the service's id; null when it has none yet */
  serviceId: string | null;
  /** field path inside the service, e.g. ["realServers", 1, "port"] */
  path: (string | number)[];
  message: string;
}

const LABELS: Record<string, string> = {
  id: "id",
  name: "name",
  address: "virtual address",
  fwmark: "fwmark",
  "fwmark.value": "fwmark value",
  "fwmark.mask": "fwmark mask",
  protocol: "protocol",
  port: "port",
  scheduler: "scheduler",
  persistenceSeconds: "persistence (s)",
  sorryServer: "sorry server",
  "sorryServer.address": "sorry server address",
  "sorryServer.port": "sorry server port",
  fullNat: "client SNAT (FULLNAT)",
  realServers: "real servers",
  "realServers.#": "real server {n}",
  "realServers.#.address": "real server {n} address",
  "realServers.#.port": "real server {n} port",
  "realServers.#.weight": "real server {n} weight",
  "realServers.#.mode": "real server {n} mode",
  "realServers.#.state": "real server {n} state",
  healthCheck: "health check",
  "healthCheck.kind": "health check type",
  "healthCheck.intervalMs": "check interval (ms)",
  "healthCheck.timeoutMs": "check timeout (ms)",
  "healthCheck.rise": "good checks before up",
  "healthCheck.fall": "failed checks before down",
  "healthCheck.path": "check path",
  "healthCheck.expectStatus": "expected status",
  "healthCheck.bodyText": "expected body text",
  enabled: "enabled",
  comment: "comment",
};

/** A path inside a virtual service in operator words: ["realServers", 1, "port"] is "real server 2 port". */
export function virtualServiceFieldLabel(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "virtual service";
  const key = path.map((p) => (typeof p === "number" ? "#" : String(p))).join(".");
  const n = path.find((p): p is number => typeof p === "number");
  const label = LABELS[key];
  if (label !== undefined) return n === undefined ? label : label.replace("{n}", String(n + 1));
  return path.map((p) => (typeof p === "number" ? `[${p + 1}]` : String(p))).join(" ");
}

/** The key two services may not share: address, protocol and port (null: every port). */
const serviceKey = (s: VirtualService) => `${s.address}/${s.protocol}/${s.port ?? "*"}`;
const describePort = (s: VirtualService) => (s.port === null ? "every port" : `port ${s.port}`);

/** Whether one packet's mark could match both: they agree on every bit both masks test. */
function marksOverlap(a: Fwmark, b: Fwmark): boolean {
  const both = (a.mask & b.mask) >>> 0;
  return (a.value & both) >>> 0 === (b.value & both) >>> 0;
}

/** A service chosen by fwmark: what only concerns such services (the mark's own bits are zFwmark's). */
function checkFwmarkService(
  s: VirtualService,
  fwmark: Fwmark,
  marked: readonly VirtualService[],
  issue: (path: (string | number)[], message: string) => void,
) {
  if (s.address !== null) {
    issue(["address"], "must be empty for a service chosen by fwmark: a service is chosen by its address or by a mark");
  }
  if (fwmark.value === 0) {
    issue(
      ["fwmark", "value"],
      "must not be 0: the service would take every connection that does not carry the operator's mark",
    );
  }
  if (s.protocol !== "any") {
    issue(
      ["protocol"],
      "must be TCP and UDP (any) for a service chosen by fwmark: the operator's rule that sets the mark picks the protocols",
    );
  }
  if (s.port !== null) {
    issue(
      ["port"],
      "must be empty for a service chosen by fwmark: the operator's rule that sets the mark picks the ports",
    );
  }
  const other = marked.find((x) => x !== s && x.fwmark !== null && marksOverlap(x.fwmark, fwmark));
  if (other?.fwmark) {
    issue(
      ["fwmark"],
      `must differ from virtual service "${other.name}"'s fwmark ${formatFwmark(other.fwmark)} in a bit both masks test: one packet could carry both`,
    );
  }
  s.realServers.forEach((rs, i) => {
    if (rs.mode === "dr") {
      issue(
        ["realServers", i, "mode"],
        `cannot be direct routing (DR) in a service chosen by fwmark: DR forwards packets at priority raw (-300), before the operator's rules can set the mark; use NAT`,
      );
    }
  });
  const ported = s.realServers.filter((r) => r.port !== null).length;
  if (ported > 0 && ported < s.realServers.length) {
    const i = s.realServers.findIndex((r) => r.port === null);
    issue(
      ["realServers", i, "port"],
      "must be given when another real server has one: in a service chosen by fwmark either every real server gives the port connections go to, or none does and each connection keeps its own",
    );
  }
}

export function validateVirtualServices(input: {
  virtualServices?: readonly unknown[];
  pools: readonly Pool[];
  isps: readonly Isp[];
  /** the gateways' own LAN and link addresses, when known */
  settings?: ClusterSettings;
  /** gateway names by id, for messages about their addresses */
  gatewayNames?: ReadonlyMap<string, string>;
}): VirtualServiceIssue[] {
  const out: VirtualServiceIssue[] = [];
  const issue = (serviceId: string | null, path: (string | number)[], message: string) =>
    out.push({ serviceId, path, message: joinLabel(virtualServiceFieldLabel(path), message) });

  const services: VirtualService[] = [];
  for (const raw of input.virtualServices ?? []) {
    const r = zVirtualService.safeParse(raw);
    const id =
      typeof raw === "object" && raw !== null && typeof (raw as { id?: unknown }).id === "string"
        ? (raw as { id: string }).id
        : null;
    if (!r.success) {
      for (const i of r.error.issues) {
        issue(
          id,
          i.path.filter((p): p is string | number => typeof p !== "symbol"),
          plainZodMessage(i),
        );
      }
      continue;
    }
    services.push(r.data);
  }

  const names = new Map<string, VirtualService>();
  const keys = new Map<string, VirtualService>();
  const poolAddresses = input.pools.flatMap((p) =>
    p.addresses.flatMap((text) => {
      const r = parseAddressRange(text);
      return r.ok ? [{ pool: p, range: r.value }] : [];
    }),
  );
  const ownAddresses = new Map<string, Isp>();
  for (const isp of input.isps) {
    if (isp.localAddress !== null) ownAddresses.set(isp.localAddress.split("/")[0] as string, isp);
  }
  const ispNextHops = new Map(input.isps.map((i) => [i.nextHop, i]));
  // a DR real server's packets are told apart by the last 16 bits of its address (core/spec/marks.ts)
  const drNumbers = new Map<number, string>();
  const gatewayAddresses = settingsAddresses(input.settings, input.isps, input.gatewayNames);

  const marked = services.filter((s) => s.fwmark !== null);
  for (const s of services) {
    const lower = s.name.toLowerCase();
    const sameName = names.get(lower);
    if (sameName !== undefined) issue(s.id, ["name"], `is already used by another virtual service`);
    else names.set(lower, s);

    if (s.fwmark !== null) {
      checkFwmarkService(s, s.fwmark, marked, (path, message) => issue(s.id, path, message));
    } else if (s.address === null) {
      issue(s.id, ["address"], "is required: a virtual service is chosen by its address (or by an fwmark)");
    } else {
      checkAddressService({ ...s, address: s.address });
    }
    checkServers(s);
  }
  return out;

  /** A service on an address: one per address, protocol and port, on an address of its own. */
  function checkAddressService(s: VirtualService & { address: string }) {
    if (s.protocol === "any") {
      issue(s.id, ["protocol"], "must be TCP or UDP for a service on an address (TCP and UDP is for fwmark services)");
    }

    const key = serviceKey(s);
    const same = keys.get(key);
    if (same !== undefined) {
      issue(
        s.id,
        ["port"],
        `is already used: virtual service "${same.name}" has ${s.address} ${s.protocol} ${describePort(s)}`,
      );
    } else keys.set(key, s);
    // a service on every port and one on a single port of the same address would both match
    const other =
      s.port === null
        ? services.find((x) => x !== s && x.address === s.address && x.protocol === s.protocol && x.port !== null)
        : services.find((x) => x !== s && x.address === s.address && x.protocol === s.protocol && x.port === null);
    if (other !== undefined && s.port === null) {
      issue(
        s.id,
        ["port"],
        `cannot be every port: virtual service "${other.name}" already has ${s.address} ${s.protocol} port ${other.port}`,
      );
    }

    const vip = ipv4ToBigInt(s.address);
    const inPool = poolAddresses.find((p) => p.range.start <= vip && vip <= p.range.end);
    if (inPool !== undefined)
      issue(s.id, ["address"], `is an address of pool "${inPool.pool.name}": a virtual address must be its own`);
    const own = ownAddresses.get(s.address);
    if (own !== undefined) issue(s.id, ["address"], `is the gateway's own address on ISP "${own.name}"`);
    const gatewayOwn = gatewayAddresses.get(s.address);
    if (gatewayOwn !== undefined) issue(s.id, ["address"], `is ${gatewayOwn}`);
    const hop = ispNextHops.get(s.address);
    if (hop !== undefined) issue(s.id, ["address"], `is the next hop of ISP "${hop.name}"`);
    const first = Number(s.address.split(".")[0]);
    if (first === 0 || first === 127 || first >= 224) {
      issue(s.id, ["address"], "must be a unicast address the gateway can receive traffic for");
    }
  }

  /** The real servers, sorry server and health check of any service. */
  function checkServers(s: VirtualService) {
    // a service on every port keeps each connection's port; an fwmark service checks its own (checkFwmarkService)
    const everyPort = s.port === null && s.fwmark === null;
    const seen = new Map<string, number>();
    s.realServers.forEach((rs, i) => {
      const k = `${rs.address}:${rs.port ?? s.port ?? "*"}`;
      const twin = seen.get(k);
      if (twin !== undefined) issue(s.id, ["realServers", i, "address"], `is the same as real server ${twin + 1}`);
      else seen.set(k, i);
      if (rs.address === s.address) issue(s.id, ["realServers", i, "address"], "must not be the virtual address");
      if (rs.mode === "dr") {
        const sameNumber = drNumbers.get(drTargetOf(rs.address));
        if (sameNumber !== undefined && sameNumber !== rs.address) {
          issue(
            s.id,
            ["realServers", i, "address"],
            `cannot be a direct routing (DR) server with ${sameNumber}: DR servers' addresses must differ in their last two numbers`,
          );
        } else drNumbers.set(drTargetOf(rs.address), rs.address);
        if (rs.port !== null && rs.port !== s.port) {
          issue(s.id, ["realServers", i, "port"], "cannot map ports in direct routing (DR) mode: leave it empty");
        }
        if (s.fullNat)
          issue(s.id, ["realServers", i, "mode"], "cannot be direct routing (DR) when the client is SNATed (FULLNAT)");
      }
      if (rs.port !== null && everyPort && rs.mode === "nat") {
        issue(s.id, ["realServers", i, "port"], "cannot be set when the service takes every port: leave it empty");
      }
    });
    const modes = new Set(s.realServers.map((r) => r.mode));
    if (modes.size > 1) issue(s.id, ["realServers"], "must all use the same mode (NAT or DR)");
    if (s.sorryServer !== null && s.sorryServer.address === s.address) {
      issue(s.id, ["sorryServer", "address"], "must not be the virtual address");
    }
    if (s.sorryServer !== null && s.sorryServer.port !== null && everyPort) {
      issue(s.id, ["sorryServer", "port"], "cannot be set when the service takes every port: leave it empty");
    }
    if (s.healthCheck.kind !== "none" && s.healthCheck.kind !== "tcp" && s.protocol === "udp") {
      issue(s.id, ["healthCheck", "kind"], "must be none or TCP for a UDP service");
    }
    if (s.healthCheck.kind !== "none" && s.port === null && s.realServers.some((r) => r.port === null)) {
      issue(
        s.id,
        ["healthCheck", "kind"],
        s.fwmark === null
          ? "needs a port: a service on every port can only be checked with none"
          : "needs a port: give every real server the port to check, or check with none",
      );
    }
  }
}

/** The addresses the cluster's settings give its gateways (LAN, LAN virtual, per-link), with what each is. */
function settingsAddresses(
  settings: ClusterSettings | undefined,
  isps: readonly Isp[],
  gatewayNames: ReadonlyMap<string, string> = new Map(),
): Map<string, string> {
  const out = new Map<string, string>();
  if (settings === undefined) return out;
  const host = (a: string) => a.split("/")[0] as string;
  const ispName = (id: string) => isps.find((i) => i.id === id)?.name ?? id;
  if (settings.ha.lanVirtualAddress !== null) {
    out.set(host(settings.ha.lanVirtualAddress), "the cluster's LAN virtual address");
  }
  for (const link of settings.ha.links) {
    if (link.floatingAddress !== null) {
      out.set(host(link.floatingAddress), `the floating address on ISP "${ispName(link.ispId)}"`);
    }
  }
  for (const g of settings.gateways) {
    const who = `gateway "${gatewayNames.get(g.gatewayId) ?? g.gatewayId}"`;
    if (g.lanAddress !== null) out.set(host(g.lanAddress), `the LAN address of ${who}`);
    if (g.lanVirtualAddress !== null) out.set(host(g.lanVirtualAddress), `the LAN virtual address of ${who}`);
    for (const link of g.links) {
      const on = `on ISP "${ispName(link.ispId)}"`;
      if (link.localAddress !== null) out.set(host(link.localAddress), `the address of ${who} ${on}`);
      if (link.floatingAddress !== null) out.set(host(link.floatingAddress), `the floating address of ${who} ${on}`);
    }
  }
  return out;
}

/** A policy's virtual service problems as sentences that name the service: what blocks a publish. */
export function virtualServiceProblems(policy: Policy): string[] {
  const names = new Map((policy.virtualServices ?? []).map((s) => [s.id, s.name]));
  return validateVirtualServices({
    virtualServices: policy.virtualServices,
    pools: policy.pools,
    isps: policy.isps,
    settings: policy.settings,
  }).map((i) => `virtual service "${(i.serviceId !== null && names.get(i.serviceId)) || "?"}": ${i.message}`);
}
