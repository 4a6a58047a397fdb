import type { GatewaySettings, HaSettings, Isp, Policy, Pool, Rule, Zone } from "../policy/model";
import type { VirtualService } from "../policy/virtual-service";
import type { PolicyIssue } from "../policy/validate";

/**
 * What an import produces: one result per input line (never a line without one), the entities it
 * would add to a cluster's draft, the questions it could not answer by itself, and the problems
 * the draft would have with those entities added.
 */

export const IMPORT_FORMATS = ["ipvsadm", "iptables", "keepalived"] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

export const FORMAT_LABELS: Record<ImportFormat, string> = {
  ipvsadm: "ipvsadm -S / ipvsadm-save -n (lvs-snat, dsnat, virtual services)",
  iptables: "iptables-save (nat table: SNAT rules, DNAT virtual services)",
  keepalived: "keepalived.conf (lvs-snat snat_rule, dsnat zones, virtual_server, VRRP)",
};

/**
 * - imported: the line became (part of) a new entity
 * - merged: the line adds to an entity an earlier line or the draft already has
 * - ignored: the line has no policy meaning (comment, blank, table header, counters)
 * - not-imported: the line means something Gatehouse does not import (yet); the message says why
 * - question: the line needs an answer from the operator before it can be imported
 */
export type LineStatus = "imported" | "merged" | "ignored" | "not-imported" | "question";

export interface LineResult {
  /** the file the line is in, for keepalived includes; "" for the text given */
  file: string;
  /** 1-based */
  line: number;
  text: string;
  status: LineStatus;
  message: string;
  /** what was changed in the text before it was read (pasted characters, shortened ranges) */
  changed: string[];
}

export interface ImportQuestion {
  /** stable key: give the answer in ImportOptions.answers under it */
  key: string;
  prompt: string;
  /** what kind of answer is expected: an IPv4 next hop, an interface name, or an ISP (name or interface) */
  expects: "nextHop" | "interface" | "isp";
  lines: number[];
}

export interface ImportChangeSet {
  isps: Isp[];
  pools: Pool[];
  zones: Zone[];
  rules: Rule[];
  /** inbound virtual services (ipvsadm -A/-a, keepalived virtual_server, iptables DNAT) */
  virtualServices: VirtualService[];
  /** HA settings read from keepalived vrrp_instance blocks; null: the draft's are kept */
  ha: HaSettings | null;
  /**
   * the VRRP values of the gateway the file belongs to (ImportOptions.gatewayId): its priority,
   * LAN interface and own addresses, replacing its entry in the cluster's settings; null: none
   */
  gateway: GatewaySettings | null;
  /**
   * "list": the import makes the cluster's rules apply in the order listed, because everything it
   * brings is a first-match list (iptables chains, dsnat zones) and the cluster had no rules;
   * absent: the draft's ordering mode is kept
   */
  ruleOrder?: "list";
}

export interface ImportResult {
  format: ImportFormat;
  lines: LineResult[];
  questions: ImportQuestion[];
  /** notes about the whole input (line endings, priorities pinned) */
  notes: string[];
  changes: ImportChangeSet;
  /** the existing policy with the changes added */
  policy: Policy;
  /** problems of `policy` that the existing policy did not have: an import with any is refused */
  problems: string[];
  /** raw problems, for callers that map them to entities */
  issues: PolicyIssue[];
}

/** Reads a file named by a keepalived `include`; null when it does not exist. Injected: core reads no files. */
export type FileReader = (path: string) => string | null;

export interface ImportOptions {
  format?: ImportFormat;
  /** answers to earlier questions, by question key */
  answers?: Readonly<Record<string, string>>;
  /** prefix of the ids given to new entities; must not collide with the draft's ids */
  idPrefix?: string;
  /** keepalived: the file name the text came from (for messages and relative includes) */
  fileName?: string;
  /** keepalived: includes must resolve inside this directory */
  baseDir?: string;
  readFile?: FileReader;
  /**
   * keepalived: the gateway whose configuration this is. Its vrrp_instance values that belong to
   * one gateway (priority, unicast_src_ip, the LAN interface) go into its settings; without it
   * they are listed as not imported.
   */
  gatewayId?: string;
}

/** Input limits: enough for any real gateway's configuration, refused beyond with a clear message. */
export const IMPORT_LIMITS = {
  maxBytes: 2_000_000,
  maxLines: 50_000,
  maxIncludes: 64,
  maxIncludeDepth: 8,
} as const;

export class ImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ImportError";
  }
}
