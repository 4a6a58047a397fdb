"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import type { RuleCount, RuleCounters } from "@/server/services/rule-counters/read";
import { useTRPC } from "@/app/lib/trpc";
import { formatBytes, formatCount } from "@/app/lib/units";

/** How often the counters are fetched again: about as often as agents report (HEARTBEAT_SECONDS). */
const REFRESH_MS = 15_000;

/** The counters of the rules shown (a page of the table, or one rule), refreshed while open. */
export function useRuleCounters(clusterId: string, ruleIds: readonly string[] | undefined) {
  const trpc = useTRPC();
  const ids = ruleIds === undefined ? undefined : [...ruleIds].sort();
  return useQuery(
    trpc.rule.counters.queryOptions(
      { clusterId, ...(ids === undefined ? {} : { ruleIds: ids }) },
      { refetchInterval: REFRESH_MS, placeholderData: keepPreviousData, enabled: ids === undefined || ids.length > 0 },
    ),
  );
}

const count = (n: number) => n.toLocaleString("en-US");

/** "5 min ago", "3 h ago", "2 d ago" from a time to now. */
export function agoText(at: Date, now: number): string {
  const s = Math.max(0, Math.round((now - at.getTime()) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}

/** A time in words an operator can compare with a log: the date and the minute, in UTC. */
export function whenText(at: Date): string {
  return `${at.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/**
 * "13:05" today, "5 Dec" before (UTC): short enough for a table cell; the cell's title has
 * the full time.
 */
export function shortWhenText(at: Date, now = Date.now()): string {
  const iso = at.toISOString();
  if (iso.slice(0, 10) === new Date(now).toISOString().slice(0, 10)) return iso.slice(11, 16);
  return `${at.getUTCDate()} ${MONTHS[at.getUTCMonth()]}`;
}

/** The rule's hits and, when it has none, since when it has matched nothing. */
export function hitsSummary(
  c: RuleCount | undefined,
  data: RuleCounters | undefined,
  now: number,
  when: (at: Date) => string = whenText,
): {
  hits: string;
  note: string;
} {
  if (data === undefined) return { hits: "…", note: "" };
  if (c === undefined || c.noMatchSince === null) return { hits: "—", note: "no counters reported yet" };
  if (c.connections === 0) return { hits: "0", note: `no match since ${when(c.noMatchSince)}` };
  return { hits: count(c.connections), note: c.lastHitAt === null ? "" : `last ${agoText(c.lastHitAt, now)}` };
}

/** "1.2 k packets, 3.4 MiB" of the rule's connections; "" before anything was counted. */
export function trafficText(c: Pick<RuleCount, "packets" | "bytes"> | undefined): string {
  if (c === undefined || c.packets === 0) return "";
  return `${formatCount(c.packets)} packets, ${formatBytes(c.bytes)}`;
}

/** The hits cell of the rules table. */
export function HitsCell({ counts, data }: { counts: RuleCount | undefined; data: RuleCounters | undefined }) {
  const now = Date.now();
  const s = hitsSummary(counts, data, now, (at) => shortWhenText(at, now));
  const full = hitsSummary(counts, data, now);
  const traffic = trafficText(counts);
  return (
    <td
      className="hits"
      title={`${full.hits} new connections${full.note === "" ? "" : `, ${full.note}`}${
        traffic === "" ? "" : `; their traffic: ${traffic}`
      }`}
    >
      <span className="hits-count">{s.hits}</span>
      {s.note !== "" && <span className={`small ${counts?.connections === 0 ? "warn-text" : "muted"}`}>{s.note}</span>}
    </td>
  );
}

/** The rule page's counters: the total, the last match, and each gateway's share. */
export function RuleCountersPanel({ clusterId, ruleId }: { clusterId: string; ruleId: string }) {
  const q = useRuleCounters(clusterId, [ruleId]);
  const c = q.data?.rules.find((r) => r.ruleId === ruleId);
  const s = hitsSummary(c, q.data, Date.now());
  return (
    <section className="rule-counters" aria-label="Counters">
      <h3>Counters</h3>
      {q.isPending && <p className="muted">Loading counters…</p>}
      {q.isError && <p className="error">Cannot load the counters: {q.error.message}</p>}
      {q.data && (
        <>
          <p>
            <strong data-testid="rule-hits">{s.hits}</strong> new connections
            {s.note !== "" && <span className="muted"> · {s.note}</span>}
          </p>
          {c !== undefined && c.packets > 0 && (
            <p data-testid="rule-traffic">
              Their traffic, both directions: <strong>{formatBytes(c.bytes)}</strong> in {count(c.packets)} packets
            </p>
          )}
          {c !== undefined && c.gateways.length > 0 && (
            <table className="rule-counters-table" aria-label="Counters per gateway">
              <thead>
                <tr>
                  <th scope="col">Gateway</th>
                  <th scope="col">New connections</th>
                  <th scope="col">Packets</th>
                  <th scope="col">Bytes</th>
                  <th scope="col">Last match</th>
                </tr>
              </thead>
              <tbody>
                {c.gateways.map((g) => (
                  <tr key={g.gatewayId}>
                    <td>{g.gatewayName}</td>
                    <td>{count(g.connections)}</td>
                    <td>{count(g.packets)}</td>
                    <td>{formatBytes(g.bytes)}</td>
                    <td>{g.lastHitAt === null ? "—" : whenText(g.lastHitAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}

/** The simulator's line for the matched rule: what its counters say about real traffic. */
export function MatchedRuleHits({ clusterId, ruleId }: { clusterId: string; ruleId: string }) {
  const q = useRuleCounters(clusterId, [ruleId]);
  const c = q.data?.rules.find((r) => r.ruleId === ruleId);
  const s = hitsSummary(c, q.data, Date.now());
  if (q.isError) return <span className="error">Cannot load the counters: {q.error.message}</span>;
  const traffic = trafficText(c);
  return (
    <span data-testid="matched-rule-hits">
      {s.hits} new connections{s.note === "" ? "" : ` · ${s.note}`}
      {traffic === "" ? "" : ` · ${traffic}`}
    </span>
  );
}
