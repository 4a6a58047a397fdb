import { fwmarkField, hexMark, numberField } from "@/app/components/list-text";
import {
  type RealServerMode,
  type VirtualService,
  type VsProtocol,
  type VsScheduler,
  zHealthCheck,
} from "@/core/policy/virtual-service";
import { virtualServiceFieldLabel } from "@/core/policy/virtual-service-validate";
import { capitalize, issueWords, joinLabel } from "@/core/policy/wording";

/**
 * The virtual service form's state (text as typed) and its conversion to the fields the API
 * checks, and where each message goes: the browser checks with the API's own schema, the
 * server's messages (which name their field already) land under the same fields.
 */

export interface RealServerRow {
  /** stable across edits, for React */
  key: number;
  address: string;
  port: string;
  weight: string;
  mode: RealServerMode;
  state: "enabled" | "draining";
}

export interface ServiceFormState {
  name: string;
  /** how connections are chosen: by virtual address, protocol and port, or by the operator's fwmark */
  chosenBy: "address" | "fwmark";
  address: string;
  protocol: VsProtocol;
  port: string;
  markValue: string;
  markMask: string;
  scheduler: VsScheduler;
  persistence: string;
  fullNat: boolean;
  enabled: boolean;
  sorryAddress: string;
  sorryPort: string;
  checkKind: "none" | "tcp" | "http" | "https";
  checkInterval: string;
  checkTimeout: string;
  checkRise: string;
  checkFall: string;
  checkPath: string;
  checkStatus: string;
  checkBody: string;
  comment: string;
  realServers: RealServerRow[];
}

let nextKey = 1;
export const newRealServerRow = (over: Partial<RealServerRow> = {}): RealServerRow => ({
  key: nextKey++,
  address: "",
  port: "",
  weight: "1",
  mode: "nat",
  state: "enabled",
  ...over,
});

const text = (n: number | null | undefined) => (n === null || n === undefined ? "" : String(n));

export function initialState(s: VirtualService | null): ServiceFormState {
  const hc = s?.healthCheck ?? zHealthCheck.parse(undefined);
  return {
    name: s?.name ?? "",
    chosenBy: s?.fwmark ? "fwmark" : "address",
    address: s?.address ?? "",
    // a service on an address takes TCP or UDP; switching an fwmark service to an address starts at TCP
    protocol: s && s.protocol !== "any" ? s.protocol : "tcp",
    port: s ? text(s.port) : "80",
    markValue: s?.fwmark ? hexMark(s.fwmark.value) : "",
    markMask: s?.fwmark ? hexMark(s.fwmark.mask) : "",
    scheduler: s?.scheduler ?? "rr",
    persistence: text(s?.persistenceSeconds ?? 0),
    fullNat: s?.fullNat ?? false,
    enabled: s?.enabled ?? true,
    sorryAddress: s?.sorryServer?.address ?? "",
    sorryPort: text(s?.sorryServer?.port),
    checkKind: hc.kind,
    checkInterval: text(hc.intervalMs),
    checkTimeout: text(hc.timeoutMs),
    checkRise: text(hc.rise),
    checkFall: text(hc.fall),
    checkPath: hc.path,
    checkStatus: text(hc.expectStatus),
    checkBody: hc.bodyText,
    comment: s?.comment ?? "",
    realServers: (s?.realServers ?? [{ address: "", port: null, weight: 1, mode: "nat", state: "enabled" }]).map((r) =>
      newRealServerRow({
        address: r.address,
        port: text(r.port),
        weight: text(r.weight),
        mode: r.mode,
        state: r.state,
      }),
    ),
  };
}

/**
 * The state as the schema should see it: empty port means every port, an empty sorry server none.
 * A service chosen by fwmark has no address or port and takes TCP and UDP; an empty mask is the
 * operator's bits, 0xf0000000.
 */
export function toFields(s: ServiceFormState) {
  const byMark = s.chosenBy === "fwmark";
  return {
    name: s.name.trim(),
    address: byMark ? null : s.address.trim(),
    fwmark: byMark ? (fwmarkField(s.markValue, s.markMask) ?? { value: Number.NaN, mask: Number.NaN }) : null,
    protocol: byMark ? ("any" as const) : s.protocol,
    port: byMark ? null : numberField(s.port, null),
    scheduler: s.scheduler,
    persistenceSeconds: numberField(s.persistence, undefined),
    sorryServer:
      s.sorryAddress.trim() === "" ? null : { address: s.sorryAddress.trim(), port: numberField(s.sorryPort, null) },
    fullNat: s.fullNat,
    realServers: s.realServers.map((r) => ({
      address: r.address.trim(),
      port: numberField(r.port, null),
      weight: numberField(r.weight, undefined),
      mode: r.mode,
      state: r.state,
    })),
    healthCheck: {
      kind: s.checkKind,
      intervalMs: numberField(s.checkInterval, undefined),
      timeoutMs: numberField(s.checkTimeout, undefined),
      rise: numberField(s.checkRise, undefined),
      fall: numberField(s.checkFall, undefined),
      path: s.checkPath.trim() === "" ? undefined : s.checkPath.trim(),
      expectStatus: numberField(s.checkStatus, undefined),
      bodyText: s.checkBody,
    },
    enabled: s.enabled,
    comment: s.comment,
  };
}

export interface FormIssue {
  path: readonly PropertyKey[];
  message: string;
  code?: unknown;
}

/** Messages by dotted field path ("realServers.1.weight"); those of no known field under "". */
export function placeIssues(
  issues: readonly FormIssue[],
  fieldKeys: ReadonlySet<string>,
  fromServer: boolean,
): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const issue of issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
    // the server's messages name their field already
    const words = fromServer ? issue.message : joinLabel(virtualServiceFieldLabel(path), issueWords(issue));
    let key = path.join(".");
    while (key !== "" && !fieldKeys.has(key)) key = key.includes(".") ? key.slice(0, key.lastIndexOf(".")) : "";
    const list = out[key] ?? [];
    const message = capitalize(words);
    if (!list.includes(message)) list.push(message);
    out[key] = list;
  }
  return out;
}

/** The keys the form shows messages under, for a form with `rows` real servers. */
export function fieldKeysFor(rows: number): Set<string> {
  const keys = [
    "name",
    "address",
    "fwmark",
    "fwmark.value",
    "fwmark.mask",
    "protocol",
    "port",
    "scheduler",
    "persistenceSeconds",
    "sorryServer.address",
    "sorryServer.port",
    "fullNat",
    "realServers",
    "healthCheck.kind",
    "healthCheck.intervalMs",
    "healthCheck.timeoutMs",
    "healthCheck.rise",
    "healthCheck.fall",
    "healthCheck.path",
    "healthCheck.expectStatus",
    "healthCheck.bodyText",
    "enabled",
    "comment",
  ];
  for (let i = 0; i < rows; i++) {
    for (const f of ["address", "port", "weight", "mode", "state"]) keys.push(`realServers.${i}.${f}`);
  }
  return new Set(keys);
}
