import type { RealServerTraffic } from "../../core/protocol/virtual-service-status";
import { POLICY_TABLE } from "../../core/render/names";
import { drClosingMapOf, drFlowMapOf } from "../../core/render/vs-dr";
import type { GatewaySpec } from "../../core/spec/schema";
import { type CommandRunner, describeFailure, ok } from "../apply/runner";
import {
  type ConnCounts,
  parseConntrack,
  parseDrFlows,
  parseSetCounters,
  rawTraffic,
  type TrafficSample,
  withRates,
} from "./traffic";

/**
 * Reads the virtual services' traffic: one `nft -j list sets` for every counter, one
 * `conntrack -L --dst-nat` when some service is in NAT mode (the kernel walks only its own table;
 * only DNATed entries are printed), and one listing per direct routing service's flow map (and
 * closing map, for TCP).
 * Each call to sample() gives rates against the previous one.
 */

const TIMEOUT_MS = 3_000;
const [family, table] = POLICY_TABLE.split(" ") as [string, string];

export class VirtualServiceTraffic {
  private prev: TrafficSample | null = null;

  constructor(
    private readonly runner: CommandRunner,
    private readonly now: () => number = Date.now,
  ) {}

  /** The traffic of every real server, by realServerKey; throws when the counters cannot be read. */
  async sample(spec: GatewaySpec): Promise<Map<string, RealServerTraffic>> {
    const at = this.now();
    const sets = await this.run(["nft", "-j", "list", "sets", "table", family, table]);
    let conntrack = new Map<string, ConnCounts>();
    if (spec.virtualServices.some((s) => s.mode !== "dr")) {
      conntrack = parseConntrack(await this.run(["conntrack", "-L", "--dst-nat"]));
    }
    const drFlows = new Map<string, Map<number, number>>();
    for (const s of spec.virtualServices) {
      if (s.mode !== "dr") continue;
      for (const name of s.protocol === "tcp" ? [drFlowMapOf(s), drClosingMapOf(s)] : [drFlowMapOf(s)]) {
        drFlows.set(name, parseDrFlows(await this.run(["nft", "-j", "list", "map", family, table, name])));
      }
    }
    const cur: TrafficSample = { at, servers: rawTraffic(spec, parseSetCounters(sets), conntrack, drFlows) };
    const out = withRates(this.prev, cur);
    this.prev = cur;
    return out;
  }

  private async run(args: string[]): Promise<string> {
    const r = await this.runner.run(args, { timeoutMs: TIMEOUT_MS });
    if (!ok(r)) throw new Error(describeFailure(r));
    return r.stdout;
  }
}
