import { isIPv4 } from "../address";
import { MAX_REAL_SERVERS, type RealServer, type VsScheduler, zHealthCheck } from "../policy/virtual-service";
import type { PolicyBuilder } from "./builder";
import { type Dialect, type OptionKey, readRuleOptions } from "./iptables-options";
import type { SourceLine } from "./text";
import { readHostPort, readPort } from "./vs-text";

/**
 * `-A PREROUTING -d VIP -p tcp --dport P -j DNAT --to-destination RIP[:PORT]` rules into virtual
 * services. Several DNAT rules for one address, protocol and port are one service whose real
 * servers the rules take turns at: `-m statistic --mode nth` (round robin) or `--mode random
 * --probability X` cascades (each rule takes X of what the rules above left: shares, then weights).
 */

export interface DnatText {
  src: SourceLine;
  address: string;
  protocol: "tcp" | "udp";
  port: number | null;
  to: { address: string; port: number | null };
  stat: { mode: "nth"; every: number; packet: number } | { mode: "random"; probability: number } | null;
  notes: string[];
}

const DNAT_DIALECT: Dialect = {
  becomes: "a virtual service",
  optionWord: "option",
  reads: new Set<OptionKey>([
    "dst",
    "proto",
    "dports",
    "iif",
    "target",
    "toDestination",
    "comment",
    "mode",
    "every",
    "packet",
    "probability",
  ]),
  matches: ["tcp", "udp", "comment", "statistic"],
};

/** Reads the words after `-A PREROUTING` of a DNAT rule; a reason when it cannot be a virtual service. */
export function parseDnat(src: SourceLine, ws: string[]): DnatText | string {
  const o = readRuleOptions(ws, DNAT_DIALECT);
  if (typeof o === "string") return o;
  const { dst, proto, dports: dport, toDestination: to, mode, every, packet, probability } = o.values;
  const notes: string[] = [];
  if (o.values.iif !== undefined) {
    notes.push(`the input interface -i ${o.values.iif} is not kept: a virtual service answers on every interface`);
  }
  const addr = dst?.replace(/\/32$/, "");
  if (addr === undefined || !isIPv4(addr)) {
    return dst === undefined
      ? "it has no destination address (-d): a virtual service has one address"
      : `-d ${dst} is not one address: a virtual service has one address`;
  }
  if (proto !== "tcp" && proto !== "udp") return "a virtual service is TCP or UDP: give -p tcp or -p udp";
  const port = dport === undefined ? null : readPort(dport);
  if (dport !== undefined && (port === null || port === 0))
    return `--dport ${dport} is not one port (port ranges are not read)`;
  const rs = readHostPort(to ?? "");
  if (!rs) return `--to-destination "${to ?? ""}" is not address[:port] (ranges are not read)`;
  let stat: DnatText["stat"] = null;
  if (mode === "nth") {
    const e = Number(every);
    const k = Number(packet ?? "0");
    if (!Number.isInteger(e) || e < 1 || !Number.isInteger(k) || k < 0 || k >= e)
      return "--every/--packet are not numbers";
    stat = { mode: "nth", every: e, packet: k };
  } else if (mode === "random") {
    const p = Number(probability);
    if (!(p > 0 && p <= 1)) return `--probability "${probability ?? ""}" is not a number above 0 and at most 1`;
    stat = { mode: "random", probability: p };
  } else if (mode !== undefined) return `the statistic mode "${mode}" is not nth or random`;
  return {
    src,
    address: addr,
    protocol: proto,
    port,
    to: { address: rs.address, port: rs.port === undefined || rs.port === port ? null : rs.port },
    stat,
    notes,
  };
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;

/** One service per address, protocol and port, in the order of their first rule. */
export function importDnat(b: PolicyBuilder, rules: DnatText[]) {
  const groups = new Map<string, DnatText[]>();
  for (const r of rules) {
    const key = `${r.protocol}/${r.address}/${r.port ?? "all"}`;
    const list = groups.get(key);
    if (list) list.push(r);
    else groups.set(key, [r]);
  }
  for (const all of groups.values()) {
    const first = all[0] as DnatText;
    const where = `${first.address} ${first.protocol.toUpperCase()} ${first.port === null ? "every port" : `port ${first.port}`}`;
    const refuse = (list: DnatText[], why: string) => {
      for (const r of list) b.say(r.src, "not-imported", `not imported because ${why}`);
    };
    // first match: after a rule without statistic, no later rule for the service is reached
    const catchAll = all.findIndex((r) => r.stat === null);
    const used = catchAll === -1 ? all : all.slice(0, catchAll + 1);
    for (const r of all.slice(used.length)) {
      b.say(
        r.src,
        "not-imported",
        `not imported because the rule on line ${(all[catchAll] as DnatText).src.line} takes every connection to ${where} first: this one is never reached`,
      );
    }
    const modes = new Set(used.filter((r) => r.stat).map((r) => r.stat?.mode));
    if (modes.size > 1) {
      refuse(used, `the rules for ${where} mix --mode nth and --mode random`);
      continue;
    }
    const existing = b.serviceAt(first.address, first.protocol, first.port);
    if (existing) {
      refuse(used, `${existing.words} already answers on ${where}`);
      continue;
    }
    const dup = used.find((r, i) => used.findIndex((o) => o.to.address === r.to.address) !== i);
    if (dup) {
      refuse(used, `real server ${dup.to.address} is named by two rules: read it by hand`);
      continue;
    }
    if (used.length > MAX_REAL_SERVERS) {
      refuse(used, `a service may have at most ${MAX_REAL_SERVERS} real servers (these rules give ${used.length})`);
      continue;
    }
    let scheduler: VsScheduler = "rr";
    let how: string;
    const shares: number[] = [];
    let weights = used.map(() => 1);
    if (modes.has("random")) {
      let left = 1;
      for (const r of used) {
        const p = r.stat?.mode === "random" ? r.stat.probability : 1;
        shares.push(left * p);
        left -= left * p;
      }
      const leftNote =
        left > 0.0005 ? `; the ${pct(left)} no rule translated are spread over the real servers too` : "";
      const milli = shares.map((s) => Math.max(1, Math.round(s * 1000)));
      const g = milli.reduce(gcd);
      weights = milli.map((m) => Math.min(65_535, m / g));
      const equal = weights.every((w) => w === weights[0]);
      scheduler = equal ? "random" : "wrr";
      how = equal
        ? `--mode random with equal shares: scheduler random${leftNote}`
        : `--mode random probabilities read as shares ${shares.map(pct).join(", ")}: scheduler wrr with weights ${weights.join(", ")}${leftNote}`;
    } else if (modes.has("nth")) {
      how = "--mode nth: the rules take turns, scheduler rr";
    } else how = "one DNAT rule: one real server";
    const servers: RealServer[] = used.map((r, i) => ({
      address: r.to.address,
      port: first.port === null ? null : r.to.port,
      weight: weights[i] ?? 1,
      mode: "nat",
      state: "enabled",
    }));
    const vs = b.virtualService({
      address: first.address,
      fwmark: null,
      protocol: first.protocol,
      port: first.port,
      scheduler,
      persistenceSeconds: 0,
      sorryServer: null,
      fullNat: false,
      realServers: servers,
      healthCheck: zHealthCheck.parse({ kind: "none" }),
      enabled: true,
      comment: `iptables DNAT, line ${first.src.line}`,
    });
    if ("problems" in vs) {
      refuse(used, vs.problems.join("; "));
      continue;
    }
    b.say(
      first.src,
      "imported",
      `imported as ${b.vsWords(vs)} (${how}; no health check)${first.notes.length ? `; ${first.notes.join("; ")}` : ""}`,
    );
    used.slice(1).forEach((r, i) => {
      const share = shares[i + 1] === undefined ? "" : `, share ${pct(shares[i + 1] as number)}`;
      b.say(
        r.src,
        "merged",
        `real server ${r.to.address}${r.to.port === null ? "" : `:${r.to.port}`} (weight ${weights[i + 1]}${share}) of virtual service "${vs.name}" (line ${first.src.line})${r.notes.length ? `; ${r.notes.join("; ")}` : ""}`,
      );
    });
  }
}
