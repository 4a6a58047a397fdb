import { type Interval, ipv4ToBigInt, parseAddressRange } from "../address";
import { type ClusterGateway, defaultGatewaySettings, hostOf, ispsInUse, resolveLink } from "./ha";
import type { GatewaySettings, Policy, PoolMode } from "./model";

/**
 * Checks of the per-gateway settings and of high availability: every gateway's links complete for
 * the ISPs the cluster uses, the addresses that float with VRRP, virtual router ids unique per
 * link, and connection sync addresses. Issues go to the cluster settings, at the field to change.
 */

export interface HaIssue {
  path: (string | number)[];
  message: string;
}

/** What validation knows of the cluster beyond its policy. */
export interface ValidationContext {
  /** the cluster's gateways; absent: only the gateways that have settings are checked */
  gateways?: readonly Pick<ClusterGateway, "id" | "name">[];
}

const text = (v: bigint) => [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 255n)).join(".");

function subnetOf(address: string): { address: bigint; start: bigint; end: bigint; prefix: number } | null {
  const [a, len] = address.split("/");
  const prefix = Number(len);
  if (a === undefined || !Number.isInteger(prefix) || prefix < 1 || prefix > 32) return null;
  const v = ipv4ToBigInt(a);
  const size = 1n << BigInt(32 - prefix);
  const start = v - (v % size);
  return { address: v, start, end: start + size - 1n, prefix };
}

interface PoolRange {
  poolName: string;
  ispId: string;
  mode: PoolMode;
  range: Interval;
}

function poolRanges(policy: Policy): PoolRange[] {
  const out: PoolRange[] = [];
  for (const pool of policy.pools) {
    for (const t of pool.addresses) {
      const r = parseAddressRange(t);
      if (r.ok) out.push({ poolName: pool.name, ispId: pool.ispId, mode: pool.mode, range: r.value });
    }
  }
  return out;
}

export function validateHa(policy: Policy, context: ValidationContext = {}): HaIssue[] {
  const out: HaIssue[] = [];
  const seen = new Set<string>();
  const add = (path: (string | number)[], message: string) => {
    const key = `${path.join("\u0001")}\u0000${message}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ path, message });
  };
  const { ha, gateways: entries } = policy.settings;
  const isps = new Map(policy.isps.map((i) => [i.id, i]));
  const pools = poolRanges(policy);
  const inPool = (ip: string) => {
    const v = ipv4ToBigInt(ip);
    return pools.find((p) => p.range.start <= v && v <= p.range.end) ?? null;
  };

  // which gateways to check, each with its entry and the entry's place in the list
  const names = new Map((context.gateways ?? []).map((g) => [g.id, g.name]));
  const entryAt = new Map<string, number>();
  entries.forEach((e, i) => {
    if (entryAt.has(e.gatewayId)) {
      add(["gateways", i, "gatewayId"], `gateway "${names.get(e.gatewayId) ?? e.gatewayId}" has two settings entries`);
    } else entryAt.set(e.gatewayId, i);
  });
  const checked: { id: string; name: string; at: number | null; s: GatewaySettings }[] = [];
  const ids = context.gateways ? context.gateways.map((g) => g.id) : entries.map((e) => e.gatewayId);
  for (const id of new Set(ids)) {
    const at = entryAt.get(id) ?? null;
    const s = at === null ? null : (entries[at] as GatewaySettings);
    checked.push({
      id,
      name: names.get(id) ?? id,
      at,
      s: s ?? defaultGatewaySettings(id),
    });
  }
  // a field of a gateway's entry; a gateway without an entry gets its issues on the list itself
  const gwPath = (g: (typeof checked)[number], ...rest: (string | number)[]) =>
    g.at === null ? ["gateways"] : ["gateways", g.at, ...rest];

  for (const g of checked) {
    // the gateway tells its uplinks apart by their interface, overrides included
    const byInterface = new Map<string, string>();
    for (const isp of policy.isps) {
      const link = resolveLink(g.s, isp);
      const other = byInterface.get(link.interface);
      const j = g.s.links.findIndex((l) => l.ispId === isp.id);
      if (other !== undefined && j !== -1) {
        add(
          gwPath(g, "links", j, "interface"),
          `gateway "${g.name}": interface ${link.interface} of ISP "${isp.name}" is also its interface to ISP "${other}"`,
        );
      }
      byInterface.set(link.interface, isp.name);
    }
    const seenIsp = new Set<string>();
    g.s.links.forEach((l, j) => {
      if (seenIsp.has(l.ispId)) {
        add(
          gwPath(g, "links", j, "ispId"),
          `gateway "${g.name}" lists ISP "${isps.get(l.ispId)?.name ?? l.ispId}" twice`,
        );
      }
      seenIsp.add(l.ispId);
    });
  }

  const used = ispsInUse(policy);
  // every gateway's own address on every link it has, for pool and duplicate checks
  for (const isp of policy.isps) {
    const owners = new Map<string, string>();
    for (const g of checked) {
      const link = resolveLink(g.s, isp);
      const j = g.s.links.findIndex((l) => l.ispId === isp.id);
      const field = (f: string) => (j === -1 ? gwPath(g) : gwPath(g, "links", j, f));
      if (link.override?.nextHop) {
        const net = link.localAddress ? subnetOf(link.localAddress) : null;
        const nh = ipv4ToBigInt(link.nextHop);
        if (net && (nh < net.start || nh > net.end)) {
          add(
            field("nextHop"),
            `gateway "${g.name}": next hop ${link.nextHop} on ISP "${isp.name}" is outside the link's subnet ${text(net.start)}/${net.prefix}`,
          );
        }
      }
      if (link.localAddress === null) continue;
      const own = hostOf(link.localAddress);
      const pool = inPool(own);
      if (pool) {
        add(
          field("localAddress"),
          `gateway "${g.name}": its own address ${own} on ISP "${isp.name}" is also a SNAT address of pool "${pool.poolName}"`,
        );
      }
      if (own === link.nextHop) {
        add(
          field("localAddress"),
          `gateway "${g.name}": its own address ${own} on ISP "${isp.name}" is the next hop's address`,
        );
      }
      const other = owners.get(own);
      // standalone gateways of one cluster may all take the ISP's address (labs, single sites)
      if (other !== undefined && ha.mode !== "none") {
        add(
          field("localAddress"),
          `gateway "${g.name}": its own address ${own} on ISP "${isp.name}" is also gateway "${other}"'s; each gateway needs its own (set it on the gateway's page)`,
        );
      }
      owners.set(own, g.name);
    }
  }

  if (ha.mode === "none") return out;

  const activeActive = ha.mode === "active_active";
  const lanVips: { address: string; who: string; path: (string | number)[] }[] = [];
  if (ha.mode === "active_standby") {
    if (ha.lanVirtualAddress === null) {
      add(
        ["ha", "lanVirtualAddress"],
        "LAN virtual address is required in active/standby mode: it is the clients' default gateway",
      );
    } else lanVips.push({ address: ha.lanVirtualAddress, who: "the cluster", path: ["ha", "lanVirtualAddress"] });
  }

  // the cluster's floating addresses on each ISP link, and which ISPs need one
  const linkAt = new Map<string, number>();
  ha.links.forEach((l, i) => {
    if (linkAt.has(l.ispId))
      add(["ha", "links", i, "ispId"], `ISP "${isps.get(l.ispId)?.name ?? l.ispId}" has two VRRP link entries`);
    else linkAt.set(l.ispId, i);
  });
  const floating: { address: string; isp: string; who: string; path: (string | number)[] }[] = [];
  if (!activeActive) {
    for (const isp of used) {
      const i = linkAt.get(isp.id);
      const link = i === undefined ? null : ha.links[i];
      const onLink = pools.find((p) => p.ispId === isp.id && p.mode === "on-link");
      const routed = pools.find((p) => p.ispId === isp.id && p.mode === "routed");
      if (routed && (link === null || link === undefined || link.floatingAddress === null)) {
        add(
          i === undefined ? ["ha", "links"] : ["ha", "links", i, "floatingAddress"],
          `ISP "${isp.name}" has routed pool "${routed.poolName}": in active/standby the ISP must route it to a floating link address that moves with the master; set one`,
        );
      } else if (onLink && (link === null || link === undefined)) {
        add(
          ["ha", "links"],
          `ISP "${isp.name}" has on-link pool "${onLink.poolName}": its link needs a VRRP instance; set its VRID`,
        );
      }
      if (link?.floatingAddress && i !== undefined) {
        floating.push({
          address: link.floatingAddress,
          isp: isp.id,
          who: "the cluster",
          path: ["ha", "links", i, "floatingAddress"],
        });
      }
    }
  }

  const syncAddresses = new Map<string, string>();
  const vrids = new Map<number, string>();
  for (const g of checked) {
    const s = g.s;
    if (s.lanInterface === null) {
      add(gwPath(g, "lanInterface"), `gateway "${g.name}" needs its LAN interface for high availability`);
    }
    if (s.lanAddress === null) {
      add(
        gwPath(g, "lanAddress"),
        `gateway "${g.name}" needs its own LAN address (such as 100.64.0.2/24) for high availability`,
      );
    }
    if (activeActive) {
      if (s.lanVirtualAddress === null) {
        add(
          gwPath(g, "lanVirtualAddress"),
          `gateway "${g.name}" needs its LAN virtual address in active/active mode: the default gateway of the clients it serves`,
        );
      } else
        lanVips.push({
          address: s.lanVirtualAddress,
          who: `gateway "${g.name}"`,
          path: gwPath(g, "lanVirtualAddress"),
        });
      if (s.vrid === null) {
        add(gwPath(g, "vrid"), `gateway "${g.name}" needs the VRID of its VRRP group in active/active mode`);
      } else {
        const other = vrids.get(s.vrid);
        if (other !== undefined) {
          add(
            gwPath(g, "vrid"),
            `VRID ${s.vrid} of gateway "${g.name}" is also used by gateway "${other}" on the same links; each group needs its own`,
          );
        } else vrids.set(s.vrid, g.name);
      }
      for (const isp of used) {
        const link = resolveLink(s, isp);
        const j = s.links.findIndex((l) => l.ispId === isp.id);
        const routed = pools.find((p) => p.ispId === isp.id && p.mode === "routed");
        if (routed && link.floatingAddress === null) {
          add(
            j === -1 ? gwPath(g) : gwPath(g, "links", j, "floatingAddress"),
            `gateway "${g.name}" needs a floating address on ISP "${isp.name}": the ISP routes its slice of routed pool "${routed.poolName}" there`,
          );
        }
        if (link.floatingAddress !== null && j !== -1) {
          floating.push({
            address: link.floatingAddress,
            isp: isp.id,
            who: `gateway "${g.name}"`,
            path: gwPath(g, "links", j, "floatingAddress"),
          });
        }
      }
    }
    // every link this gateway runs a VRRP instance on must know its own address there
    for (const isp of used) {
      const link = resolveLink(s, isp);
      const j = s.links.findIndex((l) => l.ispId === isp.id);
      if (link.localAddress === null) {
        add(
          j === -1 ? gwPath(g) : gwPath(g, "links", j, "localAddress"),
          `gateway "${g.name}" needs its own address on ISP "${isp.name}"'s link: the cluster uses this ISP and VRRP adverts come from it`,
        );
      }
    }
    if (ha.sync.enabled) {
      if (s.syncAddress === null) {
        add(gwPath(g, "syncAddress"), `gateway "${g.name}" needs its sync-link address: connection sync is on`);
      } else {
        const other = syncAddresses.get(s.syncAddress);
        if (other !== undefined) {
          add(
            gwPath(g, "syncAddress"),
            `sync-link address ${s.syncAddress} of gateway "${g.name}" is also gateway "${other}"'s`,
          );
        } else syncAddresses.set(s.syncAddress, g.name);
      }
    }
    // the LAN virtual addresses must sit on this gateway's LAN, and none may be its own
    const lan = s.lanAddress ? subnetOf(s.lanAddress) : null;
    for (const vip of lanVips) {
      const v = subnetOf(vip.address);
      if (lan === null || v === null) continue;
      if (v.address === lan.address) {
        add(
          gwPath(g, "lanAddress"),
          `gateway "${g.name}": its own LAN address ${hostOf(s.lanAddress as string)} is ${vip.who}'s LAN virtual address`,
        );
      } else if (v.address < lan.start || v.address > lan.end) {
        add(
          gwPath(g, "lanAddress"),
          `gateway "${g.name}": ${vip.who}'s LAN virtual address ${hostOf(vip.address)} is outside its LAN subnet ${text(lan.start)}/${lan.prefix}`,
        );
      }
    }
    // floating addresses are on the ISP link and never a gateway's own address there
    for (const f of floating) {
      const isp = isps.get(f.isp);
      if (isp === undefined) continue;
      const link = resolveLink(s, isp);
      if (link.localAddress === null) continue;
      const net = subnetOf(link.localAddress);
      const v = subnetOf(f.address);
      if (net === null || v === null) continue;
      if (v.address === net.address) {
        add(
          f.path,
          `floating address ${hostOf(f.address)} of ${f.who} on ISP "${isp.name}" is gateway "${g.name}"'s own address there`,
        );
      } else if (v.address < net.start || v.address > net.end) {
        add(
          f.path,
          `floating address ${hostOf(f.address)} of ${f.who} is outside ISP "${isp.name}"'s link subnet on gateway "${g.name}" (${text(net.start)}/${net.prefix})`,
        );
      }
    }
  }

  // a floating address is never a pool address, a next hop or another floating address
  const taken = new Map<string, string>();
  for (const f of [...floating, ...lanVips.map((v) => ({ ...v, isp: "" }))]) {
    const host = hostOf(f.address);
    const pool = inPool(host);
    if (pool)
      add(f.path, `${host} is a floating address of ${f.who} and also a SNAT address of pool "${pool.poolName}"`);
    const isp = isps.get(f.isp);
    if (isp && isp.nextHop === host)
      add(f.path, `${host} is a floating address of ${f.who} and ISP "${isp.name}"'s next hop`);
    const other = taken.get(host);
    if (other !== undefined) add(f.path, `${host} is a floating address of ${f.who} and of ${other} too`);
    else taken.set(host, f.who);
  }

  // one instance per VRID on a link: in active/standby the LAN and an ISP can share an interface
  if (!activeActive) {
    for (const g of checked) {
      const byLink = new Map<string, string>();
      const lanKey = g.s.lanInterface ?? "LAN";
      const note = (key: string, vrid: number, what: string, path: (string | number)[]) => {
        const k = `${key}\u0000${vrid}`;
        const other = byLink.get(k);
        if (other !== undefined)
          add(path, `VRID ${vrid} of ${what} is also used by ${other} on interface ${key} of gateway "${g.name}"`);
        else byLink.set(k, what);
      };
      note(lanKey, ha.lanVrid, "the LAN instance", ["ha", "lanVrid"]);
      ha.links.forEach((l, i) => {
        const isp = isps.get(l.ispId);
        if (isp) note(resolveLink(g.s, isp).interface, l.vrid, `ISP "${isp.name}"'s link`, ["ha", "links", i, "vrid"]);
      });
    }
  }
  return out;
}
