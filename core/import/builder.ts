import { isIPv4 } from "../address";
import {
  type Algorithm,
  type ClusterSettings,
  type GatewaySettings,
  type HaSettings,
  type Isp,
  MAX_PRIORITY,
  type Policy,
  type Pool,
  type Rule,
  type Zone,
  zClusterSettings,
  zMonitor,
} from "../policy/model";
import { criteriaOf, type Fwmark, formatFwmark, setCriteria } from "../policy/match-criteria";
import { describeIssue, type PolicyIssue, validatePolicy } from "../policy/validate";
import type { VirtualService } from "../policy/virtual-service";
import { validateVirtualServices } from "../policy/virtual-service-validate";
import type { SourceLine } from "./text";
import type {
  ImportChangeSet,
  ImportFormat,
  ImportOptions,
  ImportQuestion,
  ImportResult,
  LineResult,
  LineStatus,
} from "./types";

/**
 * Shared by the importers: turns what a parser understood into entities added to an existing
 * policy. It matches interfaces and next hops to the policy's ISPs (or proposes new ones, or asks),
 * merges equal pools, names things uniquely, and keeps one result per input line.
 */

const issueKey = (i: PolicyIssue) => `${i.entity}|${i.id}|${i.path.join(".")}|${i.message}`;

/** Comments come from input text: the model refuses quotes, backslashes and control characters. */
export function safeComment(text: string): string {
  return text
    .replace(/[\u0000-\u001f\u007f"\\]/g, "")
    .trim()
    .slice(0, 200);
}

export class PolicyBuilder {
  private readonly results = new Map<string, LineResult>();
  private readonly order: SourceLine[] = [];
  private readonly questions = new Map<string, ImportQuestion>();
  readonly notes: string[];
  private readonly added: ImportChangeSet = {
    isps: [],
    pools: [],
    zones: [],
    rules: [],
    virtualServices: [],
    ha: null,
    gateway: null,
  };
  private readonly ids = new Set<string>();
  private counter = 0;
  private nextPriority: number;
  /** how many imported rules came from first-match lists */
  private pinned = 0;
  private readonly firstSeq: number;

  constructor(
    readonly existing: Policy,
    readonly opts: ImportOptions,
    notes: string[],
  ) {
    this.notes = notes;
    for (const list of [
      existing.isps,
      existing.pools,
      existing.zones,
      existing.rules,
      existing.virtualServices ?? [],
    ]) {
      for (const e of list) this.ids.add(e.id);
    }
    const top = existing.rules.reduce((m, r) => Math.max(m, r.priority ?? -1), -1);
    this.nextPriority = top < 0 ? 10 : (Math.floor(top / 10) + 1) * 10;
    this.firstSeq = existing.rules.reduce((m, r) => Math.max(m, r.seq + 1), 0);
  }

  // -------------------------------------------------------------------------------------------
  // line results

  addLines(lines: readonly SourceLine[]) {
    this.order.push(...lines);
  }

  private key(src: SourceLine) {
    return `${src.file}\u0000${src.line}`;
  }

  /** Records the line's result; a later call for the same line replaces an earlier one. */
  say(src: SourceLine, status: LineStatus, message: string, extraChanged: string[] = []) {
    this.results.set(this.key(src), {
      file: src.file,
      line: src.line,
      text: src.raw.slice(0, 500),
      status,
      message,
      changed: [...src.changed, ...extraChanged],
    });
  }

  has(src: SourceLine) {
    return this.results.has(this.key(src));
  }

  // -------------------------------------------------------------------------------------------
  // questions

  /** The answer given for `key`, or null after registering the question. */
  ask(src: SourceLine, key: string, prompt: string, expects: ImportQuestion["expects"]): string | null {
    const given = this.opts.answers?.[key]?.trim();
    if (given) return given;
    const q = this.questions.get(key);
    if (q) {
      if (!q.lines.includes(src.line)) q.lines.push(src.line);
    } else this.questions.set(key, { key, prompt, expects, lines: [src.line] });
    return null;
  }

  private badAnswer(key: string, prompt: string, expects: ImportQuestion["expects"], why: string, line: number) {
    this.questions.set(key, { key, prompt: `${prompt} (${why})`, expects, lines: [line] });
  }

  // -------------------------------------------------------------------------------------------
  // naming

  private newId(kind: string): string {
    const prefix = this.opts.idPrefix ?? "import";
    for (;;) {
      const id = `${prefix}-${kind}-${++this.counter}`;
      if (!this.ids.has(id)) {
        this.ids.add(id);
        return id;
      }
    }
  }

  private uniqueName(taken: readonly { name: string }[], base: string): string {
    const names = new Set(taken.map((x) => x.name.toLowerCase()));
    const clean =
      base
        .replace(/[^A-Za-z0-9 ._-]/g, "-")
        .replace(/^[^A-Za-z0-9]+/, "")
        .slice(0, 56) || "imported";
    if (!names.has(clean.toLowerCase())) return clean;
    for (let i = 2; ; i++) if (!names.has(`${clean}-${i}`.toLowerCase())) return `${clean}-${i}`;
  }

  allIsps(): Isp[] {
    return [...this.existing.isps, ...this.added.isps];
  }

  private isNew(e: { id: string }, list: readonly { id: string }[]) {
    return list.some((x) => x.id === e.id);
  }

  /** How an entity is named in a line's message, with where it came from. */
  ispWords(isp: Isp): string {
    return this.isNew(isp, this.added.isps)
      ? `new ISP "${isp.name}" (${isp.interface} via ${isp.nextHop})`
      : `ISP "${isp.name}"`;
  }

  // -------------------------------------------------------------------------------------------
  // ISPs

  private proposeIsp(iface: string, gw: string): Isp {
    const used = new Set(this.allIsps().map((i) => i.index));
    let index = 1;
    while (used.has(index)) index++;
    const isp: Isp = {
      id: this.newId("isp"),
      index,
      name: this.uniqueName(this.allIsps(), iface),
      interface: iface,
      addressing: "static",
      nextHop: gw,
      localAddress: null,
      probeTargets: [],
      monitor: zMonitor.parse(undefined),
      failoverMode: "manual",
      failbackMode: "manual",
      flushOnFailback: false,
      backupIspIds: [],
      defaultPoolId: null,
      comment: "imported",
    };
    this.added.isps.push(isp);
    return isp;
  }

  /**
   * The ISP for an egress interface and/or next hop: an existing one, a new one when both are
   * known, or null after asking for what is missing. With neither given the answer is "any".
   */
  ispFor(src: SourceLine, iface: string | undefined, gw: string | undefined): Isp | null | "any" {
    const all = this.allIsps();
    if (iface && gw) {
      return all.find((i) => i.interface === iface && i.nextHop === gw) ?? this.proposeIsp(iface, gw);
    }
    if (iface) {
      const found = all.find((i) => i.interface === iface);
      if (found) return found;
      const key = `nextHop:${iface}`;
      const prompt = `Interface ${iface} is not an ISP of this cluster yet: what is its next-hop (gateway) address?`;
      const answer = this.ask(src, key, prompt, "nextHop");
      if (answer === null) return null;
      if (!isIPv4(answer)) {
        this.badAnswer(key, prompt, "nextHop", `"${answer}" is not an IPv4 address`, src.line);
        return null;
      }
      return this.proposeIsp(iface, answer);
    }
    if (gw) {
      const found = all.find((i) => i.nextHop === gw);
      if (found) return found;
      const key = `interface:${gw}`;
      const prompt = `Next hop ${gw} is not an ISP of this cluster yet: through which interface is it reached?`;
      const answer = this.ask(src, key, prompt, "interface");
      if (answer === null) return null;
      if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/.test(answer)) {
        this.badAnswer(key, prompt, "interface", `"${answer}" is not an interface name`, src.line);
        return null;
      }
      return this.proposeIsp(answer, gw);
    }
    return "any";
  }

  /** The ISP that owns addresses nothing else ties to an uplink: the only ISP, or the operator's answer. */
  ownerFor(src: SourceLine, what: string): Isp | null {
    const all = this.allIsps();
    if (all.length === 1) return all[0] as Isp;
    const key = `isp:${what}`;
    const prompt = `Which ISP's uplink carries ${what}? Answer with the ISP's name or its interface`;
    const answer = this.ask(src, key, prompt, "isp");
    if (answer === null) return null;
    const found = all.find((i) => i.name === answer || i.interface === answer);
    if (!found) {
      this.badAnswer(key, prompt, "isp", `no ISP is named "${answer}" or uses that interface`, src.line);
      return null;
    }
    return found;
  }

  // -------------------------------------------------------------------------------------------
  // pools, zones, rules

  /** A pool with exactly these addresses on this ISP: an existing or earlier one, else a new one. */
  poolFor(
    addresses: string[],
    isp: Isp,
    portRange: Pool["portRange"],
    nameHint: string,
    mode: Pool["mode"] = "routed",
  ): { pool: Pool; merged: string | null } {
    const same = (p: Pool) =>
      p.ispId === isp.id &&
      (p.mode === "interface") === (mode === "interface") &&
      JSON.stringify(p.portRange) === JSON.stringify(portRange) &&
      JSON.stringify([...p.addresses].sort()) === JSON.stringify([...addresses].sort());
    const old = this.existing.pools.find(same);
    if (old) return { pool: old, merged: `existing pool "${old.name}"` };
    const earlier = this.added.pools.find(same);
    if (earlier) return { pool: earlier, merged: `new pool "${earlier.name}"` };
    const pool: Pool = {
      id: this.newId("pool"),
      name: this.uniqueName([...this.existing.pools, ...this.added.pools], nameHint),
      ispId: isp.id,
      mode,
      addresses,
      portRange,
      comment: "imported",
    };
    this.added.pools.push(pool);
    return { pool, merged: null };
  }

  zone(nameHint: string, networks: string[], comment: string): Zone {
    const zone: Zone = {
      id: this.newId("zone"),
      name: this.uniqueName([...this.existing.zones, ...this.added.zones], nameHint),
      networks,
      comment: safeComment(comment),
    };
    this.added.zones.push(zone);
    return zone;
  }

  /**
   * The next pinned priority: imported first-match lists keep their order, ahead of unpinned
   * rules. A cluster whose rules already apply in the order listed needs no pin: the imported
   * rules go to the end of its list in the file's order (null).
   */
  pin(): number | null {
    this.pinned++;
    if (this.existing.settings.ruleOrder === "list") return null;
    const p = this.nextPriority;
    this.nextPriority += 10;
    if (p > MAX_PRIORITY) throw new Error("too many rules to pin priorities for");
    return p;
  }

  rule(fields: {
    priority: number | null;
    source: Rule["source"];
    destinations?: string[];
    protocol?: Rule["protocol"];
    dstPorts?: string[];
    inInterfaces?: string[];
    fwmark?: Rule["fwmark"];
    egress: Isp | "any";
    action: Rule["action"];
    redirect?: Isp | null;
    comment: string;
  }): Rule {
    const rule: Rule = {
      id: this.newId("rule"),
      seq: this.firstSeq + this.added.rules.length,
      priority: fields.priority,
      source: fields.source,
      destinations: fields.destinations ?? [],
      protocol: fields.protocol ?? "any",
      ...setCriteria({ dstPorts: fields.dstPorts, inInterfaces: fields.inInterfaces, fwmark: fields.fwmark }),
      egressIspId: fields.egress === "any" ? null : fields.egress.id,
      action: fields.action,
      redirectIspId: fields.redirect?.id ?? null,
      fallbackPoolId: null,
      onFailover: "follow",
      failoverIspId: null,
      enabled: true,
      comment: safeComment(fields.comment),
    };
    this.added.rules.push(rule);
    return rule;
  }

  ruleWords(rule: Rule): string {
    const src =
      rule.source.kind === "zone"
        ? `zone "${this.added.zones.find((z) => z.id === (rule.source as { zoneId: string }).zoneId)?.name ?? ""}"`
        : rule.source.cidrs.join(", ");
    const dst = rule.destinations.length ? ` to ${rule.destinations.join(", ")}` : "";
    const c = criteriaOf(rule);
    const proto =
      (rule.protocol === "any" ? "" : ` ${rule.protocol}`) +
      (c.dstPorts.length ? ` port ${c.dstPorts.join(", ")}` : "") +
      (c.inInterfaces.length ? ` in by ${c.inInterfaces.join(", ")}` : "") +
      (c.fwmark ? ` with mark ${formatFwmark(c.fwmark)}` : "");
    const egress = rule.egressIspId
      ? ` leaving via ${this.ispWords(this.allIsps().find((i) => i.id === rule.egressIspId) as Isp)}`
      : "";
    let action: string;
    if (rule.action.type === "snat") {
      const poolId = rule.action.poolId;
      const pool = [...this.existing.pools, ...this.added.pools].find((p) => p.id === poolId);
      action = `SNAT to pool "${pool?.name ?? poolId}" (${pool?.addresses.join(", ") ?? ""}), ${rule.action.algorithm}`;
    } else action = rule.action.type === "exclude" ? "no NAT (exclude)" : "drop";
    const redirect = rule.redirectIspId
      ? `, redirected via ${this.ispWords(this.allIsps().find((i) => i.id === rule.redirectIspId) as Isp)}`
      : "";
    const prio = rule.priority === null ? "" : ` at priority ${rule.priority}`;
    return `rule${prio}: from ${src}${dst}${proto}${egress}: ${action}${redirect}`;
  }

  // -------------------------------------------------------------------------------------------
  // virtual services and HA settings

  /** The service that already answers on this address, protocol and port: the draft's or an earlier line's. */
  serviceAt(address: string, protocol: string, port: number | null): { vs: VirtualService; words: string } | null {
    return this.serviceWhere((v) => v.address === address && v.protocol === protocol && v.port === port);
  }

  /** The service that is already chosen by a mark one packet could share with this one. */
  serviceMarked(m: Fwmark): { vs: VirtualService; words: string } | null {
    return this.serviceWhere((v) => {
      if (v.fwmark === null) return false;
      const both = (v.fwmark.mask & m.mask) >>> 0;
      return (v.fwmark.value & both) >>> 0 === (m.value & both) >>> 0;
    });
  }

  private serviceWhere(same: (v: VirtualService) => boolean): { vs: VirtualService; words: string } | null {
    const old = (this.existing.virtualServices ?? []).find(same);
    if (old) return { vs: old, words: `existing virtual service "${old.name}"` };
    const earlier = this.added.virtualServices.find(same);
    return earlier ? { vs: earlier, words: `new virtual service "${earlier.name}"` } : null;
  }

  /**
   * Adds a virtual service named after its address, protocol and port (unique among the
   * services), or returns why the policy could not take it (each problem in operator words).
   */
  virtualService(fields: Omit<VirtualService, "id" | "name">): VirtualService | { problems: string[] } {
    const base =
      fields.fwmark !== null
        ? `fwmark-0x${fields.fwmark.value.toString(16)}`
        : `${fields.protocol}-${fields.address}-${fields.port ?? "all"}`;
    const others = [...(this.existing.virtualServices ?? []), ...this.added.virtualServices];
    const vs: VirtualService = {
      id: `${this.opts.idPrefix ?? "import"}-vs-candidate`,
      name: this.uniqueName(others, base),
      ...fields,
      comment: safeComment(fields.comment),
    };
    // the name is unique and callers check the address, protocol and port against the others
    // (serviceAt): the service is checked alone against the pools and ISPs, in linear time
    const problems = validateVirtualServices({
      virtualServices: [vs],
      pools: [...this.existing.pools, ...this.added.pools],
      isps: this.allIsps(),
    })
      .filter((i) => i.serviceId === vs.id)
      .map((i) => i.message);
    if (problems.length > 0) return { problems };
    vs.id = this.newId("vs");
    this.added.virtualServices.push(vs);
    return vs;
  }

  vsWords(vs: VirtualService): string {
    const port = vs.port === null ? "every port" : `port ${vs.port}`;
    const servers = vs.realServers
      .map(
        (r) =>
          `${r.address}${r.port === null ? "" : `:${r.port}`} ${r.mode.toUpperCase()} weight ${r.weight}${r.state === "draining" ? " draining" : ""}`,
      )
      .join(", ");
    const persist = vs.persistenceSeconds ? `, persistence ${vs.persistenceSeconds} s` : "";
    const where =
      vs.fwmark === null
        ? `${vs.address} ${vs.protocol.toUpperCase()} ${port}`
        : `fwmark ${formatFwmark(vs.fwmark)}, TCP and UDP`;
    return `virtual service "${vs.name}" (${where}, ${vs.scheduler}${persist}; real servers ${servers})`;
  }

  /** The HA settings the import writes: the draft's until changed. */
  get ha(): HaSettings {
    return this.added.ha ?? this.existing.settings.ha;
  }

  /** The problems the policy read so far would have with these HA settings and not without them. */
  haProblems(ha: HaSettings, gateway: GatewaySettings | null = null): string[] {
    const policy: Policy = {
      settings: this.existing.settings,
      isps: this.allIsps(),
      pools: [...this.existing.pools, ...this.added.pools],
      zones: [...this.existing.zones, ...this.added.zones],
      rules: [...this.existing.rules, ...this.added.rules],
    };
    const before = new Set(validatePolicy(policy).map(issueKey));
    const withHa: Policy = { ...policy, settings: this.settingsWith(ha, gateway) };
    return validatePolicy(withHa)
      .filter((i) => !before.has(issueKey(i)))
      .map((i) => describeIssue(withHa, i));
  }

  setHa(ha: HaSettings) {
    this.added.ha = ha;
  }

  /** One gateway's settings (its entry replaces the draft's), with the HA settings they go with. */
  setGateway(gateway: GatewaySettings) {
    this.added.gateway = gateway;
  }

  /** The cluster settings with what was read: HA settings and one gateway's entry. */
  settingsWith(ha: HaSettings | null, gateway: GatewaySettings | null): ClusterSettings {
    const base = this.existing.settings;
    return {
      ...base,
      ...(ha ? { ha } : {}),
      ...(gateway ? { gateways: [...base.gateways.filter((g) => g.gatewayId !== gateway.gatewayId), gateway] } : {}),
    };
  }

  // -------------------------------------------------------------------------------------------

  build(format: ImportFormat): ImportResult {
    const lines: LineResult[] = [];
    for (const src of this.order) {
      const r = this.results.get(this.key(src));
      // the safety net: a line no parser spoke about is never dropped without a word
      lines.push(
        r ?? {
          file: src.file,
          line: src.line,
          text: src.raw.slice(0, 500),
          status: "not-imported",
          message: "not imported because it was not understood",
          changed: src.changed,
        },
      );
    }
    // first-match lists imported into a cluster without rules read faithfully only in list order
    const toList =
      this.existing.settings.ruleOrder !== "list" &&
      this.existing.rules.length === 0 &&
      this.added.rules.length > 0 &&
      this.pinned === this.added.rules.length;
    if (toList) {
      this.added.ruleOrder = "list";
      this.notes.push(
        "the imported rules are first-match lists (iptables chains, dsnat zones), so the cluster's rules will apply in the order listed (a cluster setting; the Rules page can switch it back to most specific first)",
      );
    } else if (this.existing.settings.ruleOrder === "list" && this.pinned > 0) {
      this.notes.push(
        "the cluster's rules apply in the order listed: the imported rules go to the end of the list in the order of the file",
      );
    }
    const withHa = this.settingsWith(this.added.ha, this.added.gateway);
    // parsed, so the new key takes its place among the others as every stored policy has it
    const settings = toList ? zClusterSettings.parse({ ...withHa, ruleOrder: "list" }) : withHa;
    const policy: Policy = {
      settings,
      isps: [...this.existing.isps, ...this.added.isps],
      pools: [...this.existing.pools, ...this.added.pools],
      zones: [...this.existing.zones, ...this.added.zones],
      rules: [...this.existing.rules, ...this.added.rules],
    };
    if (this.existing.virtualServices !== undefined || this.added.virtualServices.length > 0) {
      policy.virtualServices = [...(this.existing.virtualServices ?? []), ...this.added.virtualServices];
    }
    const old = new Set(validatePolicy(this.existing).map(issueKey));
    const issues = validatePolicy(policy).filter((i) => !old.has(issueKey(i)));
    const vsKey = (i: { serviceId: string | null; path: (string | number)[]; message: string }) =>
      `${i.serviceId}|${i.path.join(".")}|${i.message}`;
    const oldVs = new Set(validateVirtualServices(this.existing).map(vsKey));
    const vsProblems = validateVirtualServices(policy)
      .filter((i) => !oldVs.has(vsKey(i)))
      .map((i) => {
        const vs = policy.virtualServices?.find((v) => v.id === i.serviceId);
        return vs ? `Virtual service "${vs.name}": ${i.message}` : `Virtual service: ${i.message}`;
      });
    return {
      format,
      lines,
      questions: [...this.questions.values()],
      notes: this.notes,
      changes: this.added,
      policy,
      problems: [...issues.map((i) => describeIssue(policy, i)), ...vsProblems],
      issues,
    };
  }
}

export function parseAlgorithm(text: string): Algorithm | null {
  const t = text.toLowerCase();
  return t === "sh" || t === "sdh" || t === "sdph" || t === "random" || t === "rr" ? t : null;
}
