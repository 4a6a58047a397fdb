import type { Isp, Policy, Pool, Rule } from "../policy/model";
import { criteriaOf, formatFwmark, OPERATOR_MARK_BITS, portSpans } from "../policy/match-criteria";
import { orderEntries, orderModeOf, orderRules } from "../policy/order";
import { describeEntity } from "../policy/entities";
import { zHealthCheck, type VirtualService } from "../policy/virtual-service";

/**
 * A policy as the scripts operators know: an `iptables-save` nat table, lvs-snat `ipvsadm` lines
 * and keepalived `snat_rule` blocks, with the virtual services as `ipvsadm -A/-a` lines and
 * keepalived `virtual_server` blocks. Each says in `notExpressible` what of the policy it cannot
 * carry (and leaves it out), so an export is never silently less than the policy.
 */

export interface ScriptExport {
  text: string;
  notExpressible: string[];
}

interface Lookup {
  isp: Map<string, Isp>;
  pool: Map<string, Pool>;
}

function lookup(policy: Policy): Lookup {
  return { isp: new Map(policy.isps.map((i) => [i.id, i])), pool: new Map(policy.pools.map((p) => [p.id, p])) };
}

function disabledNotes(policy: Policy, out: string[]) {
  for (const r of policy.rules) if (!r.enabled) out.push(`${describeEntity("rule", r, policy)} is disabled: left out`);
}

const header = (what: string, policy: Policy, title: string) => [
  `# ${what} of ${title}, exported by Gatehouse`,
  `# ${policy.rules.length} rule(s); first match in the order below`,
];

/** `--dport N[:M]`, `-m multiport --dports ...`, "" for none, null when multiport cannot hold them. */
function iptablesPorts(list: readonly string[]): string | null {
  const spans = portSpans(list);
  if (spans.length === 0) return "";
  const text = spans.map((p) => (p.from === p.to ? `${p.from}` : `${p.from}:${p.to}`));
  if (spans.length === 1) return `--dport ${text[0]}`;
  const weight = spans.reduce((n, p) => n + (p.from === p.to ? 1 : 2), 0);
  return weight > 15 ? null : `-m multiport --dports ${text.join(",")}`;
}

/** iptables-save nat table: one POSTROUTING line per rule entry, in the gateway's order. */
export function exportIptables(policy: Policy, title = "the cluster"): ScriptExport {
  const l = lookup(policy);
  const notes: string[] = [];
  disabledNotes(policy, notes);
  const skipped = new Set<string>();
  const skip = (r: Rule, why: string) => {
    if (!skipped.has(r.id)) notes.push(`${describeEntity("rule", r, policy)} ${why}: left out`);
    skipped.add(r.id);
  };
  const lines: string[] = [];
  for (const e of orderEntries(policy)) {
    const r = e.rule;
    if (skipped.has(r.id)) continue;
    if (r.redirectIspId) {
      skip(r, "redirects to another ISP's next hop, which iptables' nat table cannot do");
      continue;
    }
    if (r.action.type === "drop") {
      skip(r, "drops, which the nat table cannot do (a filter rule would)");
      continue;
    }
    const criteria = criteriaOf(r);
    const ports = iptablesPorts(criteria.dstPorts);
    if (ports === null) {
      skip(r, `matches ${criteria.dstPorts.length} port items, more than multiport's 15 ports (a range counts 2)`);
      continue;
    }
    const parts = ["-A POSTROUTING", `-s ${e.source.text}`];
    if (e.destination) parts.push(`-d ${e.destination.text}`);
    // one line per input interface: -i takes one
    const iifs = criteria.inInterfaces.length === 0 ? [null] : criteria.inInterfaces;
    if (r.protocol !== "any") parts.push(`-p ${r.protocol}`);
    if (ports !== "") parts.push(ports);
    if (criteria.fwmark !== null) parts.push(`-m mark --mark ${formatFwmark(criteria.fwmark)}`);
    if (r.egressIspId) {
      const isp = l.isp.get(r.egressIspId);
      if (isp) parts.push(`-o ${isp.interface}`);
    }
    if (r.comment) parts.push(`-m comment --comment "${r.comment}"`);
    if (r.action.type === "exclude") parts.push("-j RETURN");
    else {
      const pool = l.pool.get(r.action.poolId);
      if (!pool) continue;
      if (pool.mode === "interface") {
        const isp = l.isp.get(pool.ispId);
        if (!r.egressIspId || r.egressIspId !== pool.ispId || !isp) {
          skip(r, `uses interface-address pool "${pool.name}" without egress via its ISP: MASQUERADE needs -o`);
          continue;
        }
        parts.push(`-j MASQUERADE${pool.portRange ? ` --to-ports ${pool.portRange.from}-${pool.portRange.to}` : ""}`);
        lines.push(parts.join(" "));
        continue;
      }
      if (pool.addresses.length !== 1 || pool.addresses[0]?.includes("/")) {
        skip(r, `uses pool "${pool.name}", which is not one address range (--to-source takes one a-b range)`);
        continue;
      }
      if (r.action.algorithm !== "sh" && r.action.algorithm !== "sdh") {
        skip(
          r,
          `uses the ${r.action.algorithm} algorithm; iptables SNAT hashes source (--persistent) or source and destination only`,
        );
        continue;
      }
      const ports = pool.portRange ? `:${pool.portRange.from}-${pool.portRange.to}` : "";
      parts.push(`-j SNAT --to-source ${pool.addresses[0]}${ports}`);
      if (r.action.algorithm === "sh") parts.push("--persistent");
    }
    for (const iif of iifs) {
      const line = parts.join(" ");
      lines.push(iif === null ? line : line.replace(` -s ${e.source.text}`, ` -s ${e.source.text} -i ${iif}`));
    }
  }
  if (policy.rules.some((r) => r.fallbackPoolId))
    notes.push("fallback pools and failover are Gatehouse's: not exported");
  const ownFailover = policy.rules.filter((r) => r.onFailover !== "follow").length;
  if (ownFailover > 0) {
    notes.push(
      `${ownFailover} rule${ownFailover === 1 ? " has its" : "s have their"} own failover behaviour (never move, or an own backup ISP and pool): iptables has no notion of failover, not exported`,
    );
  }
  if (policy.settings.unmatched === "drop") {
    notes.push(
      "traffic that matches no rule is dropped by Gatehouse; the nat table cannot drop it (a filter rule would)",
    );
  }
  notes.push("ISPs match by interface (-o) only: iptables cannot tell two ISPs on one interface apart by next hop");
  const text = [
    ...header("iptables-save (nat table)", policy, title),
    "*nat",
    ":PREROUTING ACCEPT [0:0]",
    ":INPUT ACCEPT [0:0]",
    ":OUTPUT ACCEPT [0:0]",
    ":POSTROUTING ACCEPT [0:0]",
    ...lines,
    "COMMIT",
    "",
  ].join("\n");
  return { text, notExpressible: notes };
}

interface SnatLine {
  rule: Rule;
  from: string;
  to: string;
  gw?: string;
  oif?: string;
  range: string;
  algo: string;
  newGw?: string;
}

/** What lvs-snat can say of each rule, or why not. lvs-snat orders by specificity, as Gatehouse does without priorities. */
function lvsSnatLines(policy: Policy, notes: string[]): SnatLine[] {
  const l = lookup(policy);
  disabledNotes(policy, notes);
  const out: SnatLine[] = [];
  const failed = new Set<string>();
  for (const e of orderEntries(policy)) {
    const r = e.rule;
    if (failed.has(r.id)) continue;
    const fail = (why: string) => {
      notes.push(`${describeEntity("rule", r, policy)} ${why}: left out`);
      failed.add(r.id);
    };
    if (r.action.type !== "snat") {
      fail(`${r.action.type === "drop" ? "drops" : "excludes from NAT"}; lvs-snat rules only translate`);
      continue;
    }
    if (r.protocol !== "any") {
      fail(`matches ${r.protocol} only; lvs-snat rules match every protocol`);
      continue;
    }
    const criteria = criteriaOf(r);
    if (criteria.dstPorts.length > 0 || criteria.inInterfaces.length > 0 || criteria.fwmark !== null) {
      fail("matches destination ports, an input interface or a fwmark; lvs-snat rules match none of them");
      continue;
    }
    const pool = l.pool.get(r.action.poolId);
    if (!pool) continue;
    if (pool.mode === "interface") {
      fail(`uses interface-address pool "${pool.name}"; lvs-snat rules name their addresses`);
      continue;
    }
    if (pool.addresses.length !== 1 || pool.addresses[0]?.includes("/")) {
      fail(`uses pool "${pool.name}", which is not one address range`);
      continue;
    }
    const algo = r.action.algorithm;
    if (algo !== "sh" && algo !== "sdh" && algo !== "random") {
      fail(`uses the ${algo} algorithm; lvs-snat has sh, sdh and random`);
      continue;
    }
    const egress = r.egressIspId ? l.isp.get(r.egressIspId) : undefined;
    const redirect = r.redirectIspId ? l.isp.get(r.redirectIspId) : undefined;
    out.push({
      rule: r,
      from: e.source.text,
      to: e.destination?.text ?? "0.0.0.0/0",
      gw: egress?.nextHop,
      oif: egress?.interface,
      range: pool.addresses[0] as string,
      algo,
      newGw: redirect?.nextHop,
    });
  }
  if (orderModeOf(policy) === "list") {
    notes.push(
      "lvs-snat orders rules by the most specific source: this policy's rules apply in the order listed, which lvs-snat cannot keep",
    );
  } else if (policy.rules.some((r) => r.enabled && r.priority !== null)) {
    notes.push("lvs-snat orders rules by the most specific source: the pinned priorities of this policy are not kept");
  }
  return out;
}

/** The services IPVS can carry; the others are said in `notes` and left out. */
function ipvsServices(policy: Policy, notes: string[]): VirtualService[] {
  const out: VirtualService[] = [];
  for (const vs of policy.virtualServices ?? []) {
    const what = `virtual service "${vs.name}"`;
    if (!vs.enabled) notes.push(`${what} is disabled: left out`);
    else if (vs.scheduler === "random") notes.push(`${what} uses the random scheduler, which IPVS has not: left out`);
    else if (vs.fwmark === null && vs.port === null && vs.persistenceSeconds === 0)
      notes.push(`${what} takes every port without persistence, which IPVS cannot do (port 0 needs -p): left out`);
    else {
      out.push(vs);
      if (vs.fullNat) notes.push(`${what}: client SNAT (FULLNAT) is Gatehouse's: not exported`);
      if (vs.fwmark !== null && vs.fwmark.mask !== OPERATOR_MARK_BITS) {
        notes.push(
          `${what} matches fwmark ${formatFwmark(vs.fwmark)}; IPVS compares the whole mark: written as fwmark ${vs.fwmark.value}`,
        );
      }
    }
  }
  return out;
}

/** The service as ipvsadm names it: `-t VIP:PORT`, `-u VIP:PORT` or `-f MARK`. */
const vsRef = (vs: VirtualService) =>
  vs.fwmark !== null ? `-f ${vs.fwmark.value}` : `${vs.protocol === "udp" ? "-u" : "-t"} ${vs.address}:${vs.port ?? 0}`;
/** A real server's port: an fwmark service's own (0: the port the connection came to). */
const rsPort = (vs: VirtualService, rs: VirtualService["realServers"][number]) =>
  vs.fwmark !== null ? (rs.port ?? 0) : vs.port === null ? 0 : rs.mode === "dr" ? vs.port : (rs.port ?? vs.port);
const rsWeight = (rs: VirtualService["realServers"][number]) => (rs.state === "draining" ? 0 : rs.weight);

function ipvsadmServiceLines(policy: Policy, notes: string[]): string[] {
  const lines: string[] = [];
  for (const vs of ipvsServices(policy, notes)) {
    lines.push(
      [`-A ${vsRef(vs)} -s ${vs.scheduler}`, vs.persistenceSeconds ? `-p ${vs.persistenceSeconds}` : ""]
        .filter(Boolean)
        .join(" "),
    );
    for (const rs of vs.realServers) {
      lines.push(
        `-a ${vsRef(vs)} -r ${rs.address}:${rsPort(vs, rs)} ${rs.mode === "nat" ? "-m" : "-g"} -w ${rsWeight(rs)}`,
      );
    }
    if (vs.healthCheck.kind !== "none")
      notes.push(`virtual service "${vs.name}": ipvsadm has no health checks (the keepalived export has them)`);
    if (vs.sorryServer) notes.push(`virtual service "${vs.name}": ipvsadm has no sorry server (keepalived has)`);
  }
  return lines;
}

const seconds = (ms: number) => String(Math.round(ms) / 1000);

function keepalivedServiceBlocks(policy: Policy, notes: string[]): string[] {
  const blocks: string[] = [];
  const defaults = zHealthCheck.parse({});
  for (const vs of ipvsServices(policy, notes)) {
    const hc = vs.healthCheck;
    const head = vs.fwmark !== null ? `fwmark ${vs.fwmark.value}` : `${vs.address} ${vs.port ?? 0}`;
    const out = [`virtual_server ${head} {`, `    delay_loop ${seconds(hc.intervalMs)}`];
    out.push(`    lb_algo ${vs.scheduler}`, `    lb_kind ${vs.realServers[0]?.mode === "dr" ? "DR" : "NAT"}`);
    if (vs.persistenceSeconds) out.push(`    persistence_timeout ${vs.persistenceSeconds}`);
    // an fwmark service takes TCP and UDP, whichever the operator's rule marks: keepalived's protocol is left out
    if (vs.fwmark === null) out.push(`    protocol ${vs.protocol.toUpperCase()}`);
    if (vs.sorryServer) out.push(`    sorry_server ${vs.sorryServer.address} ${vs.sorryServer.port ?? vs.port ?? 0}`);
    const check: string[] = [];
    if (hc.kind === "tcp") check.push("        TCP_CHECK {");
    if (hc.kind === "http" || hc.kind === "https") {
      check.push(
        `        ${hc.kind === "http" ? "HTTP_GET" : "SSL_GET"} {`,
        "            url {",
        `                path ${hc.path}`,
        `                status_code ${hc.expectStatus}`,
        "            }",
      );
      if (hc.bodyText)
        notes.push(`virtual service "${vs.name}": keepalived cannot expect a text in the body: not exported`);
    }
    if (check.length) {
      check.push(`            connect_timeout ${seconds(hc.timeoutMs)}`, `            retry ${hc.fall}`, "        }");
      if (hc.rise !== defaults.rise)
        notes.push(`virtual service "${vs.name}": keepalived has no setting for ${hc.rise} good checks before up`);
    }
    for (const rs of vs.realServers) {
      out.push(
        `    real_server ${rs.address} ${rsPort(vs, rs)} {`,
        `        weight ${rsWeight(rs)}`,
        ...check,
        "    }",
      );
    }
    out.push("}");
    blocks.push(out.join("\n"));
  }
  return blocks;
}

export function exportIpvsadm(policy: Policy, title = "the cluster"): ScriptExport {
  const notes: string[] = [];
  const lines = lvsSnatLines(policy, notes).map((s) =>
    [
      "-K",
      `-F ${s.from}`,
      `-T ${s.to}`,
      s.gw ? `-W ${s.gw}` : "",
      s.oif ? `--oif ${s.oif}` : "",
      `-U ${s.range}`,
      `-O ${s.algo}`,
      s.newGw ? `-N ${s.newGw}` : "",
    ]
      .filter(Boolean)
      .join(" "),
  );
  const services = ipvsadmServiceLines(policy, notes);
  const text = [
    ...header("lvs-snat ipvsadm rules", policy, title),
    "-A -f 1 -s snat_sched",
    ...lines,
    ...(services.length ? ["# virtual services", ...services] : []),
    "",
  ].join("\n");
  return { text, notExpressible: notes };
}

export function exportKeepalived(policy: Policy, title = "the cluster"): ScriptExport {
  const notes: string[] = [];
  const blocks = lvsSnatLines(policy, notes).map((s) =>
    [
      "    snat_rule {",
      `        from ${s.from}`,
      `        to ${s.to}`,
      s.gw ? `        gw ${s.gw}` : "",
      s.oif ? `        oif ${s.oif}` : "",
      `        snat_ip ${s.range}`,
      `        algo ${s.algo}`,
      s.newGw ? `        new_gw ${s.newGw}` : "",
      "    }",
    ]
      .filter(Boolean)
      .join("\n"),
  );
  const text = [
    ...header("keepalived.conf (lvs-snat)", policy, title).map((x) => x.replace(/^#/, "!")),
    "virtual_server fwmark 1 {",
    "    lb_algo snat_sched",
    "    lb_kind SNAT",
    ...blocks,
    "}",
    ...keepalivedServiceBlocks(policy, notes).flatMap((b) => ["", b]),
    "",
  ].join("\n");
  return { text, notExpressible: notes };
}

/** Rules in table order, for callers that list them beside an export. */
export const rulesInOrder = (policy: Policy) => orderRules(policy).map((r) => r.rule);
