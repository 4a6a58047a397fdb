import { parseDocument, stringify } from "yaml";
import { z } from "zod";
import {
  type Isp,
  MAX_ISPS,
  type Policy,
  type Pool,
  type Rule,
  type Zone,
  zAddressing,
  zAlgorithm,
  zOnFailover,
  zClusterSettings,
  zComment,
  zId,
  zMonitor,
  zPoolMode,
  zProtocol,
} from "../policy/model";
import { formatFwmark, parseFwmark, setCriteria } from "../policy/match-criteria";
import { describeIssue, validatePolicy } from "../policy/validate";
import { type VirtualService, zVirtualServiceFields } from "../policy/virtual-service";

/**
 * The declarative YAML document of a cluster's whole policy. Entities refer to each other by
 * name, as people write them; ids, ISP numbers and rule creation order are kept when present, so
 * `readPolicyDocument(writePolicyDocument(p))` is `p` again. A document without ids (written by
 * hand) matches the existing draft's entities by name and gives new ones fresh ids.
 */

export const DOCUMENT_VERSION = 1;

const zName = z.string().min(1).max(64);
const zStrict = <T extends z.ZodRawShape>(shape: T) => z.strictObject(shape);

const zDocIsp = zStrict({
  id: zId.optional(),
  index: z.number().int().min(1).max(MAX_ISPS).optional(),
  name: zName,
  interface: z.string(),
  addressing: zAddressing.default("static"),
  nextHop: z.string(),
  localAddress: z.string().nullable().default(null),
  probeTargets: z.array(z.string()).default([]),
  monitor: zMonitor,
  failoverMode: z.enum(["manual", "automatic"]).default("manual"),
  failbackMode: z.enum(["manual", "automatic"]).default("manual"),
  flushOnFailback: z.boolean().default(false),
  backups: z.array(zName).default([]),
  defaultPool: zName.nullable().default(null),
  comment: zComment,
});

const zPorts = z
  .string()
  .regex(/^\d{1,5}-\d{1,5}$/, "must be FROM-TO, e.g. 1024-65535")
  .nullable()
  .default(null);

const zDocPool = zStrict({
  id: zId.optional(),
  name: zName,
  isp: zName,
  mode: zPoolMode.default("routed"),
  addresses: z.array(z.string()).default([]),
  ports: zPorts,
  comment: zComment,
});

const zDocZone = zStrict({ id: zId.optional(), name: zName, networks: z.array(z.string()), comment: zComment });

const zDocRule = zStrict({
  id: zId.optional(),
  seq: z.number().int().min(0).optional(),
  priority: z.number().int().nullable().default(null),
  from: z.union([zStrict({ zone: zName }), z.array(z.string())]),
  to: z.array(z.string()).default([]),
  protocol: zProtocol.default("any"),
  /** destination ports and ranges ("443", "8000-8100"), tcp and udp only */
  dports: z.array(z.string()).default([]),
  /** input interfaces */
  iif: z.array(z.string()).default([]),
  /** an operator's firewall mark, "0x10000000/0xf0000000" */
  fwmark: z.string().nullable().default(null),
  egress: zName.nullable().default(null),
  action: z.enum(["snat", "exclude", "drop"]),
  pool: zName.optional(),
  algorithm: zAlgorithm.optional(),
  redirect: zName.nullable().default(null),
  fallbackPool: zName.nullable().default(null),
  /** how the rule takes a failover of its ISP; written only when not "follow" */
  onFailover: zOnFailover.default("follow"),
  /** onFailover own: the rule's own backup ISP */
  failoverIsp: zName.nullable().default(null),
  enabled: z.boolean().default(true),
  comment: zComment,
});

export const zPolicyDocument = zStrict({
  gatehouse: z.literal(DOCUMENT_VERSION),
  cluster: z.string().max(64).optional(),
  settings: zClusterSettings.partial().default({}),
  isps: z.array(zDocIsp).default([]),
  pools: z.array(zDocPool).default([]),
  zones: z.array(zDocZone).default([]),
  rules: z.array(zDocRule).default([]),
  /**
   * inbound virtual services as the policy model has them (they refer to nothing else by id),
   * with a service's fwmark written as rules write theirs ("0x10000000/0xf0000000") and only when set
   */
  virtualServices: z
    .array(zVirtualServiceFields.extend({ id: zId.optional(), fwmark: z.string().nullable().default(null) }))
    .default([]),
});
export type PolicyDocument = z.infer<typeof zPolicyDocument>;

/** The policy as a YAML document (references by name). */
export function writePolicyDocument(policy: Policy, clusterName?: string): string {
  const ispName = (id: string | null) => (id === null ? null : (policy.isps.find((i) => i.id === id)?.name ?? id));
  const poolName = (id: string | null) => (id === null ? null : (policy.pools.find((p) => p.id === id)?.name ?? id));
  const zoneName = (id: string) => policy.zones.find((z) => z.id === id)?.name ?? id;
  const doc = {
    gatehouse: DOCUMENT_VERSION,
    ...(clusterName ? { cluster: clusterName } : {}),
    settings: policy.settings,
    isps: policy.isps.map((i) => ({
      id: i.id,
      index: i.index,
      name: i.name,
      interface: i.interface,
      addressing: i.addressing,
      nextHop: i.nextHop,
      localAddress: i.localAddress,
      probeTargets: i.probeTargets,
      monitor: i.monitor,
      failoverMode: i.failoverMode,
      failbackMode: i.failbackMode,
      flushOnFailback: i.flushOnFailback,
      backups: i.backupIspIds.map((b) => ispName(b)),
      defaultPool: poolName(i.defaultPoolId),
      comment: i.comment,
    })),
    pools: policy.pools.map((p) => ({
      id: p.id,
      name: p.name,
      isp: ispName(p.ispId),
      mode: p.mode,
      addresses: p.addresses,
      ports: p.portRange ? `${p.portRange.from}-${p.portRange.to}` : null,
      comment: p.comment,
    })),
    zones: policy.zones.map((z) => ({ id: z.id, name: z.name, networks: z.networks, comment: z.comment })),
    rules: policy.rules.map((r) => ({
      id: r.id,
      seq: r.seq,
      priority: r.priority,
      from: r.source.kind === "zone" ? { zone: zoneName(r.source.zoneId) } : r.source.cidrs,
      to: r.destinations,
      protocol: r.protocol,
      // the further criteria are written only when set: documents without them read the same
      ...((r.dstPorts ?? []).length > 0 ? { dports: r.dstPorts } : {}),
      ...((r.inInterfaces ?? []).length > 0 ? { iif: r.inInterfaces } : {}),
      ...(r.fwmark ? { fwmark: formatFwmark(r.fwmark) } : {}),
      egress: ispName(r.egressIspId),
      action: r.action.type,
      ...(r.action.type === "snat" ? { pool: poolName(r.action.poolId), algorithm: r.action.algorithm } : {}),
      redirect: ispName(r.redirectIspId),
      fallbackPool: poolName(r.fallbackPoolId),
      ...(r.onFailover === "follow" ? {} : { onFailover: r.onFailover }),
      ...(r.failoverIspId === null ? {} : { failoverIsp: ispName(r.failoverIspId) }),
      enabled: r.enabled,
      comment: r.comment,
    })),
    // id first, then the fields in the model's order: reading back and writing again gives the same text
    ...((policy.virtualServices ?? []).length > 0
      ? {
          virtualServices: (policy.virtualServices ?? []).map((v) => {
            const { fwmark, ...fields } = zVirtualServiceFields.parse(v);
            // the mark in the model's place (after the address), written only for a service chosen by one
            const { name, address, ...rest } = fields;
            return { id: v.id, name, address, ...(fwmark ? { fwmark: formatFwmark(fwmark) } : {}), ...rest };
          }),
        }
      : {}),
  };
  return stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false });
}

export interface ReadDocument {
  policy: Policy;
  cluster: string | null;
  /** what stops the document from being a valid policy: schema errors, unknown names, policy problems */
  errors: string[];
}

export interface ReadOptions {
  /** entities without ids are matched to these by name; ISP numbers and settings come from here */
  existing?: Policy;
  idPrefix?: string;
  /**
   * Keep a document's id only when `existing` has it: ids are unique across clusters, so a
   * document exported from another cluster gets new ids here (matched by name first).
   */
  onlyExistingIds?: boolean;
  /** the settings for a document that has none; a random seed is the caller's job */
  defaultSettings?: Policy["settings"];
}

/** Reads a YAML policy document; never throws for bad input: everything wrong is in `errors`. */
export function readPolicyDocument(text: string, opts: ReadOptions = {}): ReadDocument {
  const existing = opts.existing ?? {
    settings: opts.defaultSettings ?? zClusterSettings.parse({ unmatched: "drop", hashSeed: 0 }),
    isps: [],
    pools: [],
    zones: [],
    rules: [],
  };
  const empty: ReadDocument = {
    policy: { ...existing, isps: [], pools: [], zones: [], rules: [] },
    cluster: null,
    errors: [],
  };
  const yamlDoc = parseDocument(text, { uniqueKeys: true });
  if (yamlDoc.errors.length > 0) {
    return { ...empty, errors: yamlDoc.errors.slice(0, 5).map((e) => `YAML: ${e.message.split("\n")[0]}`) };
  }
  const parsed = zPolicyDocument.safeParse(yamlDoc.toJS({ maxAliasCount: 100 }));
  if (!parsed.success) {
    return {
      ...empty,
      errors: parsed.error.issues.slice(0, 10).map((i) => `${i.path.join(".") || "document"}: ${i.message}`),
    };
  }
  const doc = parsed.data;
  const errors: string[] = [];
  const taken = new Set<string>();
  for (const list of [existing.isps, existing.pools, existing.zones, existing.rules, existing.virtualServices ?? []])
    for (const e of list) taken.add(e.id);
  const known = new Set(taken);
  const keep = (id: string | undefined) =>
    id !== undefined && (!opts.onlyExistingIds || known.has(id)) ? id : undefined;
  for (const list of [doc.isps, doc.pools, doc.zones, doc.rules, doc.virtualServices]) {
    for (const e of list) {
      e.id = keep(e.id);
      if (e.id) taken.add(e.id);
    }
  }
  let counter = 0;
  const newId = (kind: string) => {
    for (;;) {
      const id = `${opts.idPrefix ?? "doc"}-${kind}-${++counter}`;
      if (!taken.has(id)) {
        taken.add(id);
        return id;
      }
    }
  };
  const idOf = <E extends { id: string; name: string }>(kind: string, e: { id?: string; name: string }, old: E[]) =>
    e.id ?? old.find((o) => o.name === e.name)?.id ?? newId(kind);

  const ispIds = new Map(doc.isps.map((i) => [i.name, idOf("isp", i, existing.isps)]));
  const poolIds = new Map(doc.pools.map((p) => [p.name, idOf("pool", p, existing.pools)]));
  const zoneIds = new Map(doc.zones.map((z) => [z.name, idOf("zone", z, existing.zones)]));
  const ref = (ids: Map<string, string>, noun: string, name: string, where: string): string => {
    const id = ids.get(name);
    if (id === undefined) {
      errors.push(`${where}: there is no ${noun} named "${name}" in the document`);
      return "missing";
    }
    return id;
  };
  const refOrNull = (ids: Map<string, string>, noun: string, name: string | null, where: string) =>
    name === null ? null : ref(ids, noun, name, where);

  const usedIndexes = new Set<number>(doc.isps.flatMap((i) => (i.index ? [i.index] : [])));
  const freeIndex = () => {
    for (let n = 1; n <= MAX_ISPS; n++) {
      if (!usedIndexes.has(n)) {
        usedIndexes.add(n);
        return n;
      }
    }
    errors.push(`a cluster can have at most ${MAX_ISPS} ISPs`);
    return MAX_ISPS;
  };
  const isps: Isp[] = doc.isps.map((i) => {
    const id = ispIds.get(i.name) as string;
    const old = existing.isps.find((o) => o.id === id);
    let index = i.index;
    if (index === undefined && old && !usedIndexes.has(old.index)) {
      index = old.index;
      usedIndexes.add(index);
    }
    index ??= freeIndex();
    return {
      id,
      index,
      name: i.name,
      interface: i.interface,
      addressing: i.addressing,
      nextHop: i.nextHop,
      localAddress: i.localAddress,
      probeTargets: i.probeTargets,
      monitor: i.monitor,
      failoverMode: i.failoverMode,
      failbackMode: i.failbackMode,
      flushOnFailback: i.flushOnFailback,
      backupIspIds: i.backups.map((b) => ref(ispIds, "ISP", b, `ISP "${i.name}" backups`)),
      defaultPoolId: refOrNull(poolIds, "pool", i.defaultPool, `ISP "${i.name}" defaultPool`),
      comment: i.comment,
    };
  });
  const pools: Pool[] = doc.pools.map((p) => {
    const [from, to] = (p.ports ?? "").split("-").map(Number);
    return {
      id: poolIds.get(p.name) as string,
      name: p.name,
      ispId: ref(ispIds, "ISP", p.isp, `pool "${p.name}" isp`),
      mode: p.mode,
      addresses: p.addresses,
      portRange: p.ports === null ? null : { from: from as number, to: to as number },
      comment: p.comment,
    };
  });
  const zones: Zone[] = doc.zones.map((z) => ({
    id: zoneIds.get(z.name) as string,
    name: z.name,
    networks: z.networks,
    comment: z.comment,
  }));
  let nextSeq = Math.max(
    0,
    ...existing.rules.map((r) => r.seq + 1),
    ...doc.rules.map((r) => (r.seq === undefined ? 0 : r.seq + 1)),
  );
  const docFwmark = (text: string | null, where: string): Rule["fwmark"] => {
    if (text === null) return null;
    const m = parseFwmark(text);
    if (m.ok) return m.value;
    errors.push(`${where}: ${m.error}`);
    return null;
  };
  const rules: Rule[] = doc.rules.map((r, n) => {
    const where = `rule ${n + 1}`;
    const id = r.id ?? newId("rule");
    const old = existing.rules.find((o) => o.id === id);
    let action: Rule["action"];
    if (r.action === "snat") {
      if (!r.pool || !r.algorithm) errors.push(`${where}: an snat rule needs pool and algorithm`);
      action = {
        type: "snat",
        poolId: ref(poolIds, "pool", r.pool ?? "", `${where} pool`),
        algorithm: r.algorithm ?? "sh",
      };
    } else {
      if (r.pool || r.algorithm) errors.push(`${where}: only snat rules have a pool and an algorithm`);
      action = { type: r.action };
    }
    return {
      id,
      seq: r.seq ?? old?.seq ?? nextSeq++,
      priority: r.priority,
      source: Array.isArray(r.from)
        ? { kind: "cidrs", cidrs: r.from }
        : { kind: "zone", zoneId: ref(zoneIds, "zone", r.from.zone, `${where} from`) },
      destinations: r.to,
      protocol: r.protocol,
      ...setCriteria({ dstPorts: r.dports, inInterfaces: r.iif, fwmark: docFwmark(r.fwmark, `${where} fwmark`) }),
      egressIspId: refOrNull(ispIds, "ISP", r.egress, `${where} egress`),
      action,
      redirectIspId: refOrNull(ispIds, "ISP", r.redirect, `${where} redirect`),
      fallbackPoolId: refOrNull(poolIds, "pool", r.fallbackPool, `${where} fallbackPool`),
      onFailover: r.onFailover,
      failoverIspId: refOrNull(ispIds, "ISP", r.failoverIsp, `${where} failoverIsp`),
      enabled: r.enabled,
      comment: r.comment,
    };
  });
  const virtualServices: VirtualService[] = doc.virtualServices.map(({ id: _, fwmark, ...fields }, n) => ({
    id: idOf("vs", doc.virtualServices[n] as { id?: string; name: string }, existing.virtualServices ?? []),
    ...fields,
    fwmark: docFwmark(fwmark, `virtual service ${n + 1} fwmark`) ?? null,
  }));
  const merged = { ...existing.settings, ...doc.settings };
  // settings without ruleOrder mean most specific first, as a policy without it does
  if (Object.keys(doc.settings).length > 0 && doc.settings.ruleOrder === undefined) delete merged.ruleOrder;
  if (merged.ruleOrder === "specificity") delete merged.ruleOrder;
  const policy: Policy = {
    settings: zClusterSettings.parse(merged),
    isps,
    pools,
    zones,
    rules,
    ...(virtualServices.length > 0 ? { virtualServices } : {}),
  };
  if (errors.length === 0) errors.push(...validatePolicy(policy).map((i) => describeIssue(policy, i)));
  return { policy, cluster: doc.cluster ?? null, errors };
}
