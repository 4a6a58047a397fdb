import type { z } from "zod";
import { ENTITY_NOUN, type PolicyPart } from "./entities";

/**
 * Messages in operator words, for the API and the forms alike: zod's defaults ("Invalid input:
 * expected number, received string") become "must be a number", and a message that continues a
 * sentence is joined to its field's label ("Name is required") while a message that is a sentence
 * of its own gets a colon ("Network 2: "10.0.0.1/8" has host bits set").
 */

/** A message that continues "<field> ..." rather than standing alone. */
export const CONTINUES_LABEL = /^(must|is|are|may|needs|has|have|cannot|should|ends)\b/;

const TYPE_WORDS: Record<string, string> = {
  string: "text",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  array: "a list",
  object: "a set of fields",
  null: "empty",
};

/** A zod issue in operator words; messages a schema wrote itself are kept as they are. */
export function plainZodMessage(issue: z.core.$ZodIssue): string {
  const m = issue.message;
  const isDefault = /^(Invalid|Too small|Too big|Unrecognized)/.test(m);
  if (!isDefault) return m;
  switch (issue.code) {
    case "invalid_type":
      if (m.includes("received undefined")) return "is required";
      return `must be ${TYPE_WORDS[issue.expected] ?? issue.expected}`;
    case "too_small":
      if (issue.origin === "array") return `needs at least ${issue.minimum} items`;
      if (issue.origin === "string") return `must be at least ${issue.minimum} characters`;
      return `must be ${issue.inclusive === false ? "above" : "at least"} ${issue.minimum}`;
    case "too_big":
      if (issue.origin === "array") return `may have at most ${issue.maximum} items`;
      if (issue.origin === "string") return `must be at most ${issue.maximum} characters`;
      return `must be ${issue.inclusive === false ? "below" : "at most"} ${issue.maximum}`;
    case "invalid_value":
      return `must be one of ${issue.values.map(String).join(", ")}`;
    case "invalid_union":
      if ("options" in issue && issue.options) return `must be one of ${issue.options.map(String).join(", ")}`;
      return "is not valid";
    case "invalid_format":
      return "has an invalid format";
    default:
      return "is not valid";
  }
}

/**
 * The same for a message whose issue is gone (only its text came over the wire, or a caller
 * kept the text): recognises zod's default wording.
 */
export function plainMessage(message: string): string {
  if (/^Invalid input: expected (number|int)/.test(message)) return "must be a number";
  if (/^Invalid input: expected (string|array|object), received undefined/.test(message)) return "is required";
  if (/^Invalid option: expected one of/.test(message)) return "must be chosen";
  if (/^Invalid input: expected string/.test(message)) return "must be text";
  return message;
}

/** An issue's words: zod issues through plainZodMessage, anything else through plainMessage. */
export function issueWords(issue: { message: string; code?: unknown }): string {
  return typeof issue.code === "string" ? plainZodMessage(issue as z.core.$ZodIssue) : plainMessage(issue.message);
}

/** "name is required", but "address item 2: "x" is not an address" for messages that are sentences. */
export function joinLabel(label: string, message: string): string {
  return CONTINUES_LABEL.test(message) ? `${label} ${message}` : `${label}: ${message}`;
}

export const capitalize = (s: string) => (s === "" ? s : s.charAt(0).toUpperCase() + s.slice(1));

// Field labels: paths inside an entity in operator words

const LABELS: Record<string, string> = {
  "isp.id": "id",
  "isp.index": "index",
  "isp.name": "name",
  "isp.interface": "interface",
  "isp.nextHop": "next hop",
  "isp.localAddress": "link address",
  "isp.probeTargets": "probe targets",
  "isp.probeTargets.#": "probe target {n}",
  "isp.monitor": "monitor settings",
  "isp.monitor.intervalMs": "probe interval (ms)",
  "isp.monitor.downAfter": "lost probes before down",
  "isp.monitor.upAfter": "good probes before up",
  "isp.monitor.holdDownMs": "hold-down time (ms)",
  "isp.monitor.lossThresholdPct": "loss threshold (%)",
  "isp.monitor.latencyThresholdMs": "latency threshold (ms)",
  "isp.failoverMode": "failover mode",
  "isp.failbackMode": "failback mode",
  "isp.flushOnFailback": "flush on failback",
  "isp.backupIspIds": "backup ISPs",
  "isp.backupIspIds.#": "backup ISP {n}",
  "isp.defaultPoolId": "default pool",
  "isp.comment": "comment",
  "pool.id": "id",
  "pool.name": "name",
  "pool.ispId": "ISP",
  "pool.mode": "mode",
  "pool.addresses": "addresses",
  "pool.addresses.#": "address item {n}",
  "pool.portRange": "port range",
  "pool.portRange.from": "first port",
  "pool.portRange.to": "last port",
  "pool.comment": "comment",
  "zone.id": "id",
  "zone.name": "name",
  "zone.networks": "networks",
  "zone.networks.#": "network {n}",
  "zone.comment": "comment",
  "rule.id": "id",
  "rule.seq": "creation order",
  "rule.priority": "priority",
  "rule.source": "source",
  "rule.source.kind": "source type",
  "rule.source.zoneId": "source zone",
  "rule.source.cidrs": "source networks",
  "rule.source.cidrs.#": "source network {n}",
  "rule.destinations": "destinations",
  "rule.destinations.#": "destination {n}",
  "rule.protocol": "protocol",
  "rule.dstPorts": "destination ports",
  "rule.dstPorts.#": "destination port {n}",
  "rule.inInterfaces": "input interfaces",
  "rule.inInterfaces.#": "input interface {n}",
  "rule.fwmark": "fwmark",
  "rule.fwmark.value": "fwmark value",
  "rule.fwmark.mask": "fwmark mask",
  "rule.egressIspId": "egress ISP",
  "rule.action": "action",
  "rule.action.type": "action",
  "rule.action.poolId": "SNAT pool",
  "rule.action.algorithm": "algorithm",
  "rule.redirectIspId": "redirect ISP",
  "rule.fallbackPoolId": "fallback pool",
  "rule.onFailover": "on failover",
  "rule.failoverIspId": "own backup ISP",
  "rule.enabled": "enabled",
  "rule.comment": "comment",
  "settings.unmatched": "unmatched traffic",
  "settings.ruleOrder": "rule order",
  "settings.hashSeed": "hash seed",
  "settings.lanInterfaces": "LAN interfaces",
  "settings.lanInterfaces.#": "LAN interface {n}",
  "settings.internalInterfaces": "internal interfaces",
  "settings.internalInterfaces.#": "internal interface {n}",
  "settings.ha": "high availability",
  "settings.ha.mode": "high-availability mode",
  "settings.ha.lanVirtualAddress": "LAN virtual address",
  "settings.ha.lanVrid": "LAN VRID",
  "settings.ha.advertIntervalMs": "advert interval (ms)",
  "settings.ha.preempt": "preempt",
  "settings.ha.unicast": "unicast adverts",
  "settings.ha.trackLinkWeight": "link tracking weight",
  "settings.ha.sync": "connection sync",
  "settings.ha.sync.enabled": "connection sync",
  "settings.ha.sync.interface": "sync interface",
  "settings.ha.links": "VRRP ISP links",
  "settings.ha.links.#": "VRRP ISP link {n}",
  "settings.ha.links.#.ispId": "ISP",
  "settings.ha.links.#.vrid": "VRID",
  "settings.ha.links.#.floatingAddress": "floating link address",
  "settings.gateways": "gateway settings",
  "settings.gateways.#": "gateway settings {n}",
  "settings.gateways.#.gatewayId": "gateway",
  "settings.gateways.#.lanInterface": "LAN interface",
  "settings.gateways.#.lanAddress": "own LAN address",
  "settings.gateways.#.priority": "VRRP priority",
  "settings.gateways.#.syncAddress": "sync-link address",
  "settings.gateways.#.lanVirtualAddress": "LAN virtual address",
  "settings.gateways.#.vrid": "VRID",
  "settings.gateways.#.links": "ISP links",
  "settings.gateways.#.links.#": "ISP link {n}",
  "settings.gateways.#.links.#.ispId": "ISP",
  "settings.gateways.#.links.#.interface": "interface",
  "settings.gateways.#.links.#.localAddress": "own link address",
  "settings.gateways.#.links.#.nextHop": "next hop",
  "settings.gateways.#.links.#.floatingAddress": "floating link address",
};

/** A field path in operator words: ["addresses", 2] of a pool is "address item 3". */
export function fieldLabel(entity: PolicyPart, path: readonly PropertyKey[]): string {
  if (path.length === 0) return entity === "settings" ? "settings" : ENTITY_NOUN[entity];
  const key = [entity, ...path.map((p) => (typeof p === "number" ? "#" : String(p)))].join(".");
  const label = LABELS[key];
  const last = path[path.length - 1];
  if (label !== undefined) return typeof last === "number" ? label.replace("{n}", String(last + 1)) : label;
  return path.map((p) => (typeof p === "number" ? `[${p + 1}]` : String(p))).join(" ");
}
