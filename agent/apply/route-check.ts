import { parseCidr } from "../../core/address";
import { cidrRange, formatRange } from "../../core/render/intervals";
import type { FailoverState } from "../../core/spec/decide";
import { MARK_REROUTE } from "../../core/spec/marks";
import type { GatewaySpec, SpecIsp } from "../../core/spec/schema";
import { type CommandRunner, describeFailure, ok } from "./runner";

/**
 * Asks the kernel whether a failover took effect: for each failed-over ISP and a few of the
 * sources the policy covers, `ip route get DST from SRC iif LAN mark M` with the mark the
 * classifier gives the moved connections must answer with the backup's interface. An operator
 * ip rule before Gatehouse's (docs/semantics.md) is what makes it answer otherwise.
 */

/** Where a connection is probed to when the rule names no destination: a documentation address, routed by default. */
export const ROUTE_CHECK_DESTINATION = "203.0.113.1";
const MAX_SOURCES = 8;

export interface RouteCheck {
  ok: boolean;
  /** per failed-over ISP id: what did not take effect (empty when it did) */
  problems: Map<string, string[]>;
}

interface RouteGetJson {
  dev?: string;
  gateway?: string;
  type?: string;
}

const address = (n: number) => formatRange({ start: n, end: n });

/** A few hosts of a network to try as a sample (the first is often the gateway's own address). */
function hostsOf(cidr: string): string[] {
  const r = cidrRange(cidr);
  if (r.end - r.start < 2) return [address(r.start)];
  return [...new Set([r.start + 1, r.end - 1, r.start + 2].filter((n) => n > r.start && n < r.end))].map(address);
}

async function routeGet(runner: CommandRunner, args: string[]): Promise<RouteGetJson | string> {
  const r = await runner.run(["ip", "-4", "-j", "route", "get", ...args], { timeoutMs: 5000 });
  if (!ok(r)) return describeFailure(r);
  try {
    const parsed = JSON.parse(r.stdout) as RouteGetJson[];
    return parsed[0] ?? "ip route get printed nothing";
  } catch {
    return "ip route get: output is not JSON";
  }
}

/** Sample (sources, destination) of the traffic a failover moves: one per distinct rule source. */
function samples(spec: GatewaySpec): Array<{ srcs: string[]; dst: string }> {
  const seen = new Set<string>();
  const out: Array<{ srcs: string[]; dst: string }> = [];
  for (const e of spec.entries) {
    if (e.action.type === "drop" || !parseCidr(e.source).ok) continue;
    const dst = e.destination === null ? ROUTE_CHECK_DESTINATION : (hostsOf(e.destination)[0] as string);
    const key = `${e.source} ${dst}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ srcs: hostsOf(e.source), dst });
    if (out.length >= MAX_SOURCES) break;
  }
  return out;
}

export async function checkFailoverRoutes(
  runner: CommandRunner,
  spec: GatewaySpec,
  failover: FailoverState,
): Promise<RouteCheck> {
  const isps = new Map<string, SpecIsp>(spec.isps.map((i) => [i.id, i]));
  const ispIfaces = new Set(spec.isps.map((i) => i.interface));
  const problems = new Map<string, string[]>();
  const pairs = samples(spec);
  for (const [fromId, toId] of failover) {
    const from = isps.get(fromId);
    const to = isps.get(toId);
    if (from === undefined || to === undefined) continue;
    const list: string[] = [];
    const mark = `0x${(MARK_REROUTE | to.index).toString(16)}`;
    for (const { srcs, dst } of pairs) {
      // the LAN interface a source lives behind (not one of the gateway's own addresses); a
      // source routed out an ISP is nobody's LAN
      let src = "";
      let lan: string | undefined;
      for (const candidate of srcs) {
        const back = await routeGet(runner, [candidate]);
        if (typeof back === "string" || back.type === "local" || back.dev === "lo") continue;
        src = candidate;
        lan = back.dev;
        break;
      }
      if (lan === undefined || ispIfaces.has(lan)) continue;
      const got = await routeGet(runner, [dst, "from", src, "iif", lan, "mark", mark]);
      if (typeof got === "string") {
        list.push(`${src} -> ${dst}: ${got}`);
        continue;
      }
      if (got.dev !== to.interface || (got.gateway !== undefined && got.gateway !== to.nextHop)) {
        const via = got.gateway === undefined ? "" : ` via ${got.gateway}`;
        list.push(
          `${src} -> ${dst} marked for ${to.name} leaves by ${got.dev ?? got.type ?? "nothing"}${via}, not ${to.interface}: an ip rule before Gatehouse's overrides the failover`,
        );
      }
    }
    problems.set(fromId, list);
  }
  return { ok: [...problems.values()].every((l) => l.length === 0), problems };
}
