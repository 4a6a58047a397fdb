import { drClosingMapOf, drFlowMapOf } from "../../core/render/vs-dr";
import { realServerKey } from "../../core/render/vs-schedule";
import { vsProtocols } from "../../core/policy/virtual-service";
import {
  MAX_VIRTUAL_SERVICES_STATUS_BYTES,
  type RealServerTraffic,
  sumTraffic,
  type VirtualServiceStatus,
} from "../../core/protocol/virtual-service-status";
import { drMarkOf, drTargetOf } from "../../core/spec/marks";
import type { GatewaySpec } from "../../core/spec/schema";
import type { SpecRealServer, SpecVirtualService } from "../../core/spec/virtual-services";

/**
 * Virtual service traffic as `ipvsadm -Ln --stats --rate` shows it, from what the kernel already
 * counts: the counter sets of the policy table (`nft -j list sets`, one call for all of them),
 * conntrack's DNATed connections (active: TCP established; inactive: every other state, and UDP)
 * and, for direct routing, the flows in each service's flow map (inactive: those in its closing
 * map, whose client sent FIN or RST). Rates are deltas between two
 * samples. Pure: the reader (traffic-reader.ts) runs the commands.
 */

export interface Counter {
  packets: number;
  bytes: number;
}
/** set name -> element key (its values joined by spaces) -> counter */
export type SetCounters = Map<string, Map<string, Counter>>;

export interface RawTraffic {
  connections: number;
  packetsIn: number;
  packetsOut: number;
  bytesIn: number;
  bytesOut: number;
  active: number;
  inactive: number;
}

export interface TrafficSample {
  /** ms */
  at: number;
  /** by realServerKey */
  servers: Map<string, RawTraffic>;
}

const keyOf = (parts: ReadonlyArray<string | number>) => parts.map(String).join(" ");

interface NftSetJson {
  set?: { name?: string; elem?: Array<{ elem?: { val?: unknown; counter?: { packets?: number; bytes?: number } } }> };
}

/** Per-element counters of every set in `nft -j list sets` output; sets without counters are left out. */
export function parseSetCounters(json: string): SetCounters {
  const out: SetCounters = new Map();
  const doc = JSON.parse(json) as { nftables?: NftSetJson[] };
  for (const item of doc.nftables ?? []) {
    const set = item.set;
    if (set?.name === undefined) continue;
    const counters = new Map<string, Counter>();
    for (const e of set.elem ?? []) {
      const counter = e.elem?.counter;
      if (counter === undefined) continue;
      const val = e.elem?.val as { concat?: Array<string | number> } | string | number | undefined;
      const parts = typeof val === "object" && val !== null ? (val.concat ?? []) : [val ?? ""];
      counters.set(keyOf(parts), { packets: counter.packets ?? 0, bytes: counter.bytes ?? 0 });
    }
    if (counters.size > 0) out.set(set.name, counters);
  }
  return out;
}

export interface ConnCounts {
  active: number;
  inactive: number;
}

/**
 * `conntrack -L --dst-nat` lines, counted by virtual address, protocol, port, real server
 * address and port (the original destination, and the reply's source after DNAT).
 */
export function parseConntrack(text: string): Map<string, ConnCounts> {
  const out = new Map<string, ConnCounts>();
  for (const line of text.split("\n")) {
    const words = line.trim().split(/\s+/);
    const proto = words[0];
    if (proto !== "tcp" && proto !== "udp") continue;
    const state = words[3] !== undefined && !words[3].includes("=") ? words[3] : null;
    const fields: Record<string, string[]> = {};
    for (const w of words) {
      const eq = w.indexOf("=");
      if (eq <= 0) continue;
      const k = w.slice(0, eq);
      fields[k] = [...(fields[k] ?? []), w.slice(eq + 1)];
    }
    const vip = fields.dst?.[0];
    const vport = fields.dport?.[0];
    const rip = fields.src?.[1];
    const rport = fields.sport?.[1];
    if (vip === undefined || vport === undefined || rip === undefined || rport === undefined) continue;
    const key = keyOf([vip, proto, vport, rip, rport]);
    const c = out.get(key) ?? { active: 0, inactive: 0 };
    if (state === "ESTABLISHED") c.active++;
    else c.inactive++;
    out.set(key, c);
  }
  return out;
}

/** Flows per mark in `nft -j list map` output of a DR flow (or closing) map. */
export function parseDrFlows(json: string): Map<number, number> {
  const out = new Map<number, number>();
  const doc = JSON.parse(json) as { nftables?: Array<{ map?: { elem?: unknown[] } }> };
  for (const item of doc.nftables ?? []) {
    for (const e of item.map?.elem ?? []) {
      const mark = Array.isArray(e) ? e[1] : undefined;
      if (typeof mark === "number") out.set(mark, (out.get(mark) ?? 0) + 1);
    }
  }
  return out;
}

const ZERO: Counter = { packets: 0, bytes: 0 };

/** The raw numbers of every real server of the spec's services. */
export function rawTraffic(
  spec: GatewaySpec,
  sets: SetCounters,
  conntrack: ReadonlyMap<string, ConnCounts>,
  /** by map name: flows per mark of each DR flow map and closing map */
  drFlows: ReadonlyMap<string, ReadonlyMap<number, number>>,
): Map<string, RawTraffic> {
  const out = new Map<string, RawTraffic>();
  const get = (set: string, key: string) => sets.get(set)?.get(key) ?? ZERO;
  for (const s of spec.virtualServices) {
    for (const rs of s.realServers) out.set(realServerKey(s, rs), serverTraffic(s, rs, get, conntrack, drFlows));
  }
  return out;
}

function serverTraffic(
  s: SpecVirtualService,
  rs: SpecRealServer,
  get: (set: string, key: string) => Counter,
  conntrack: ReadonlyMap<string, ConnCounts>,
  drFlows: ReadonlyMap<string, ReadonlyMap<number, number>>,
): RawTraffic {
  if (s.mode === "dr") {
    const mark = drMarkOf(drTargetOf(rs.address));
    const key = keyOf([s.address ?? "", s.protocol, s.port ?? 0, mark]);
    const inbound = get("vs_dr_rs_in", key);
    const flows = drFlows.get(drFlowMapOf(s))?.get(mark) ?? 0;
    const closing = s.protocol === "tcp" ? (drFlows.get(drClosingMapOf(s))?.get(mark) ?? 0) : 0;
    return {
      connections: get("vs_dr_rs_new", key).packets,
      packetsIn: inbound.packets,
      bytesIn: inbound.bytes,
      packetsOut: 0,
      bytesOut: 0,
      active: Math.max(0, flows - closing),
      inactive: Math.min(flows, closing),
    };
  }
  const port = rs.port ?? s.port;
  // a service chosen by fwmark takes TCP and UDP: its real server's counters are both protocols'
  const keys = port === null ? [] : vsProtocols(s.protocol).map((p) => keyOf([rs.address, p, port]));
  const sum = (set: string): Counter =>
    keys.map((k) => get(set, k)).reduce((a, c) => ({ packets: a.packets + c.packets, bytes: a.bytes + c.bytes }), ZERO);
  const inbound = sum("vs_rs_in");
  const outbound = sum("vs_rs_out");
  // connections are listed by the address they were made to, which an fwmark service does not have
  const conns =
    port === null || s.address === null || s.protocol === "any"
      ? undefined
      : conntrack.get(keyOf([s.address, s.protocol, s.port ?? port, rs.address, port]));
  return {
    connections: sum("vs_rs_new").packets,
    packetsIn: inbound.packets,
    bytesIn: inbound.bytes,
    packetsOut: outbound.packets,
    bytesOut: outbound.bytes,
    active: conns?.active ?? 0,
    inactive: conns?.inactive ?? 0,
  };
}

/** A counter's growth per second; a counter that went down was reset by a reload: it counts from 0. */
function rate(now: number, before: number | undefined, seconds: number): number {
  if (before === undefined || seconds <= 0) return 0;
  const delta = now >= before ? now - before : now;
  return Math.round((delta / seconds) * 10) / 10;
}

/** The report's numbers for each real server: the sample and its rates since the previous one. */
export function withRates(prev: TrafficSample | null, cur: TrafficSample): Map<string, RealServerTraffic> {
  const seconds = prev === null ? 0 : (cur.at - prev.at) / 1000;
  const out = new Map<string, RealServerTraffic>();
  for (const [key, t] of cur.servers) {
    const p = prev?.servers.get(key);
    out.set(key, {
      ...t,
      connectionsPerSecond: rate(t.connections, p?.connections, seconds),
      packetsInPerSecond: rate(t.packetsIn, p?.packetsIn, seconds),
      packetsOutPerSecond: rate(t.packetsOut, p?.packetsOut, seconds),
      bytesInPerSecond: rate(t.bytesIn, p?.bytesIn, seconds),
      bytesOutPerSecond: rate(t.bytesOut, p?.bytesOut, seconds),
    });
  }
  return out;
}

/** The health status with each real server's traffic and each service's totals added. */
export function withTraffic(
  status: readonly VirtualServiceStatus[],
  spec: GatewaySpec,
  traffic: ReadonlyMap<string, RealServerTraffic>,
): VirtualServiceStatus[] {
  const services = new Map(spec.virtualServices.map((s) => [s.id, s]));
  return status.map((vs) => {
    const service = services.get(vs.serviceId);
    if (service === undefined) return vs;
    const realServers = vs.realServers.map((rs, i) => {
      const spec = service.realServers[i];
      const t = spec === undefined ? undefined : traffic.get(realServerKey(service, spec));
      return t === undefined ? rs : { ...rs, traffic: t };
    });
    const known = realServers.flatMap((r) => (r.traffic === undefined ? [] : [r.traffic]));
    return known.length === 0 ? { ...vs, realServers } : { ...vs, realServers, traffic: sumTraffic(known) };
  });
}

/**
 * The status cut to fit the report: per-server traffic goes first (the services' totals stay),
 * then the totals, then whole services from the end, so health is what is kept longest.
 */
export function fitStatus(
  status: readonly VirtualServiceStatus[],
  maxBytes = MAX_VIRTUAL_SERVICES_STATUS_BYTES,
): VirtualServiceStatus[] {
  const fits = (s: readonly VirtualServiceStatus[]) => JSON.stringify(s).length <= maxBytes;
  if (fits(status)) return [...status];
  const noServerTraffic = status.map((vs) => ({
    ...vs,
    realServers: vs.realServers.map(({ traffic: _, ...rs }) => rs),
  }));
  if (fits(noServerTraffic)) return noServerTraffic;
  const healthOnly = noServerTraffic.map(({ traffic: _, ...vs }) => vs);
  let n = healthOnly.length;
  while (n > 0 && !fits(healthOnly.slice(0, n))) n = Math.floor(n * 0.9);
  return healthOnly.slice(0, n);
}
