"use client";

import { useQuery } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import type { inferRouterOutputs } from "@trpc/server";
import { useParams } from "next/navigation";
import { useEffect, useMemo, useState } from "react";
import type { AppRouter } from "@/server/trpc/root";
import type { Sample } from "@/core/health/series";
import { HISTORY_RANGES, type HistoryRange, RANGE_PLANS, type RollupSeries } from "@/core/health/rollup";
import { errorMessage } from "../../../../lib/errors";
import { useTRPC } from "../../../../lib/trpc";
import { MetricChart } from "./charts";
import { FailoverDialog } from "./failover-dialog";
import { HaOverview } from "./ha-overview";
import { ConntrackOverview } from "./conntrack-overview";
import styles from "./health.module.css";
import {
  chartRows,
  describeEvent,
  formatMs,
  formatPct,
  keepWindow,
  rangeCaption,
  rollupChartRows,
  STATE_LABELS,
  sinceText,
  stateClass,
  WINDOW_MS,
} from "./present";

type Overview = inferRouterOutputs<AppRouter>["failover"]["overview"];
type Card = Overview["isps"][number];
type Operation = Overview["operations"][number];

/** What the charts show: the live last minutes from samples, or a longer range from rollups. */
type ChartSource =
  | { kind: "live"; samples: Sample[] }
  | {
      kind: "rollups";
      range: Exclude<HistoryRange, "20m">;
      series: RollupSeries | null;
      bucketMs: number;
      from: number;
      to: number;
    };

/** The charts' time range: one choice for every ISP card. */
function RangePicker({ value, onChange }: { value: HistoryRange; onChange: (r: HistoryRange) => void }) {
  return (
    <fieldset className={styles.range}>
      <legend className="muted small">Charts show</legend>
      {HISTORY_RANGES.map((r) => (
        <label key={r} className={value === r ? styles.rangeOn : undefined}>
          <input type="radio" name="history-range" value={r} checked={value === r} onChange={() => onChange(r)} />
          {RANGE_PLANS[r].label}
        </label>
      ))}
    </fieldset>
  );
}

/**
 * Link health and failover of a cluster, live: one card per ISP with its state on every gateway
 * and its loss and latency over a chosen range (the live last 20 minutes from samples, up to 90
 * days from the minute and hour rollups, with the share of time up), the operators' failover and restore with their
 * impact, each operation's progress per gateway, and the latest failover events. Updates arrive
 * over server-sent events; if the stream cannot be opened the page polls every second instead.
 */
export default function HealthPage() {
  const { clusterId } = useParams<{ clusterId: string }>();
  const trpc = useTRPC();
  const me = useQuery(trpc.auth.me.queryOptions());
  const history = useQuery(trpc.failover.history.queryOptions({ clusterId }, { staleTime: Number.POSITIVE_INFINITY }));
  const [samples, setSamples] = useState<Sample[]>([]);
  const [overview, setOverview] = useState<Overview | null>(null);
  const [now, setNow] = useState(() => Date.now());
  const [dialog, setDialog] = useState<{ card: Card; action: "failover" | "restore" } | null>(null);
  const [watching, setWatching] = useState<string | null>(null);
  const [range, setRange] = useState<HistoryRange>("20m");
  const longRange = range === "20m" ? null : range;
  const rollups = useQuery(
    trpc.failover.historyRange.queryOptions(
      { clusterId, range: longRange ?? "6h" },
      { enabled: longRange !== null, refetchInterval: 60_000 },
    ),
  );

  useEffect(() => {
    if (history.data) setSamples(history.data.samples);
  }, [history.data]);

  const live = useSubscription(
    trpc.failover.live.subscriptionOptions(
      { clusterId, after: history.data?.cursor ?? 0 },
      {
        enabled: history.isSuccess,
        onData: (message) => {
          const { overview: o, samples: fresh } = message.data;
          setOverview(o);
          setNow(Date.now());
          if (fresh.length > 0) setSamples((old) => keepWindow([...old, ...fresh], Date.now()));
        },
      },
    ),
  );
  // without the stream (a proxy that buffers it, say) the page still updates, once a second
  const polled = useQuery(
    trpc.failover.overview.queryOptions({ clusterId }, { enabled: live.status === "error", refetchInterval: 1_000 }),
  );
  const data = live.status === "error" ? (polled.data ?? overview) : overview;

  const canOperate = me.data?.role === "operator" || me.data?.role === "admin";
  const gatewayNames = useMemo(() => new Map((data?.gateways ?? []).map((g) => [g.id, g.name])), [data?.gateways]);
  const ispNames = useMemo(() => new Map((data?.isps ?? []).map((i) => [i.id, i.name])), [data?.isps]);

  const source: ChartSource =
    longRange === null
      ? { kind: "live", samples }
      : {
          kind: "rollups",
          range: longRange,
          series: rollups.data?.range === longRange ? rollups.data.series : null,
          bucketMs: RANGE_PLANS[longRange].bucketMs,
          from: rollups.data?.from ?? now - RANGE_PLANS[longRange].spanMs,
          to: rollups.data?.to ?? now,
        };

  if (history.error) return <div className="banner error">{errorMessage(history.error)}</div>;
  if (data === null || data === undefined) return <div className="loading">Loading link health…</div>;
  const watched = data.operations.find((o) => o.id === watching) ?? null;

  return (
    <div>
      <div className="row" style={{ alignItems: "baseline" }}>
        <h1>Link health</h1>
        <div className="spacer" />
        <span className="muted small" aria-live="polite">
          {live.status === "pending" ? "live" : live.status === "error" ? "polling every second" : live.status} ·
          failover epoch {data.cluster.failoverEpoch} · revision {data.cluster.publishedRevision}
        </span>
      </div>
      {data.cluster.publishedRevision === 0 && (
        <div className="banner warn">Nothing is published yet: gateways have no ISPs to probe.</div>
      )}
      {data.gateways.length === 0 && (
        <div className="banner warn">No gateway is enrolled in this cluster yet; add one on the Gateways page.</div>
      )}
      <RangePicker value={range} onChange={setRange} />
      {longRange !== null && rollups.error && <div className="banner error">{errorMessage(rollups.error)}</div>}
      {watched && <OperationProgress op={watched} ispNames={ispNames} onClose={() => setWatching(null)} />}
      <div className={styles.cards}>
        {data.isps.map((card) => (
          <IspCard
            key={card.id}
            card={card}
            source={source}
            gatewayNames={gatewayNames}
            now={now}
            canOperate={canOperate}
            onAction={(action) => setDialog({ card, action })}
          />
        ))}
      </div>
      <HaOverview clusterId={clusterId} />
      <ConntrackOverview clusterId={clusterId} />
      <Timeline operations={data.operations} events={data.events} ispNames={ispNames} onWatch={setWatching} />
      {dialog && (
        <FailoverDialog
          clusterId={clusterId}
          isp={dialog.card}
          action={dialog.action}
          onClose={() => setDialog(null)}
          onDone={(id) => {
            setDialog(null);
            setWatching(id);
          }}
        />
      )}
    </div>
  );
}

function IspCard({
  card,
  source,
  gatewayNames,
  now,
  canOperate,
  onAction,
}: {
  card: Card;
  source: ChartSource;
  gatewayNames: ReadonlyMap<string, string>;
  now: number;
  canOperate: boolean;
  onAction: (action: "failover" | "restore") => void;
}) {
  const names = card.gateways.map((g) => g.gatewayName);
  const charts = useMemo(() => {
    if (source.kind === "live") {
      return {
        loss: chartRows(source.samples, card.id, gatewayNames, "lossPct"),
        rtt: chartRows(source.samples, card.id, gatewayNames, "rttMs"),
        up: null,
      };
    }
    const series = source.series ?? {};
    return {
      loss: rollupChartRows(series, card.id, gatewayNames, "lossPct", source.bucketMs),
      rtt: rollupChartRows(series, card.id, gatewayNames, "rttMs", source.bucketMs),
      up: rollupChartRows(series, card.id, gatewayNames, "upPct", source.bucketMs),
    };
  }, [source, card.id, gatewayNames]);
  const caption = rangeCaption(source.kind === "live" ? "20m" : source.range);
  const from = source.kind === "live" ? now - WINDOW_MS : source.from;
  const to = source.kind === "live" ? now : source.to;
  const failedOver = card.admin.state === "failed_over";
  const m = card.monitor;
  return (
    <section className={`card ${styles.card}`} aria-label={`ISP ${card.name}`}>
      <div className="row">
        <h2 style={{ margin: 0 }}>{card.name}</h2>
        <span className="muted small mono">
          {card.interface} via {card.nextHop}
        </span>
        <div className="spacer" />
        {(["up", "degraded", "down", "unknown"] as const)
          .filter((s) => card.counts[s] > 0)
          .map((s) => (
            <span key={s} className={stateClass(s)}>
              {card.counts[s]} {STATE_LABELS[s]}
            </span>
          ))}
      </div>
      <div className="small" style={{ margin: "6px 0" }}>
        {failedOver ? (
          <span className="badge danger">
            failed over by {card.admin.changedBy}
            {card.admin.backupIspId
              ? ` to ${card.backups.find((b) => b.id === card.admin.backupIspId)?.name}`
              : " to the first healthy backup"}
          </span>
        ) : card.failedOverAnywhere ? (
          <span className="badge warn">failed over by gateways</span>
        ) : (
          <span className="badge ok">active</span>
        )}{" "}
        <span className="muted">
          {card.failoverMode} failover, {card.failbackMode} failback
          {card.flushOnFailback ? " (moved flows flushed)" : ""} · backups{" "}
          {card.backups.map((b) => b.name).join(", ") || "none"} · probes every {m.intervalMs} ms to{" "}
          {card.probeTargets.join(", ")}; down after {m.downAfter} lost (over {m.latencyThresholdMs} ms) or{" "}
          {m.lossThresholdPct}% loss, up after {m.upAfter} good and {formatMs(m.holdDownMs)} without loss
        </span>
      </div>
      <table className="data" aria-label={`${card.name} on each gateway`}>
        <thead>
          <tr>
            <th>Gateway</th>
            <th>State</th>
            <th>Loss</th>
            <th>Latency</th>
            <th>Traffic</th>
            <th>Connections</th>
            <th>Why</th>
          </tr>
        </thead>
        <tbody>
          {card.gateways.map((g) => (
            <tr key={g.gatewayId} data-gateway={g.gatewayName}>
              <td>
                {g.gatewayName}
                {!g.online && <span className="badge"> offline</span>}
              </td>
              <td>
                <span className={stateClass(g.state)}>{g.state ?? "no report"}</span>
                {g.since && <span className="muted small"> {sinceText(g.since, now)}</span>}
              </td>
              <td>{formatPct(g.lossPct)}</td>
              <td>{formatMs(g.rttMs)}</td>
              <td>
                {g.via ? (
                  <span className="badge warn">
                    via {g.via.name}
                    {g.via.mode === "automatic" ? " (automatic)" : ""}
                    {g.held ? ", held" : ""}
                  </span>
                ) : (
                  <span className="muted">direct</span>
                )}
              </td>
              <td>{g.connections ?? "—"}</td>
              <td className="small">
                {g.alert ? (
                  <span className="field-error">{g.alert}</span>
                ) : (
                  <span className="muted">{g.proberError || g.reason}</span>
                )}
                {g.learned && (
                  <div className="small" data-testid="learned-uplink">
                    {g.learned.nextHop === null
                      ? "No lease or PPP link: no next hop learned"
                      : `Learned: address ${g.learned.address ?? "none"}, next hop ${g.learned.nextHop}`}{" "}
                    <span className="muted">(since {sinceText(g.learned.at, now)})</span>
                  </div>
                )}
                {g.unansweredArp.length > 0 && (
                  <div className="field-error" data-testid="unanswered-arp">
                    The ISP router keeps asking (ARP) for {g.unansweredArp.join(", ")} and nobody answers: replies to
                    connections using {g.unansweredArp.length === 1 ? "this address" : "these addresses"} are lost.
                  </div>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {source.kind === "rollups" && source.series === null ? (
        <div className="loading">Loading the {caption}…</div>
      ) : source.kind === "rollups" && charts.loss.length === 0 ? (
        <div className="muted small">
          No history of {card.name} over the {caption.split(",")[0]} yet.
        </div>
      ) : (
        <div className={styles.charts}>
          <MetricChart
            title={`Loss (%), ${caption}`}
            rows={charts.loss}
            gateways={names}
            from={from}
            to={to}
            unit="%"
            max={100}
            span={to - from}
          />
          <MetricChart
            title={`Latency (ms), ${caption}`}
            rows={charts.rtt}
            gateways={names}
            from={from}
            to={to}
            unit=" ms"
            span={to - from}
          />
          {charts.up && (
            <MetricChart
              title={`Up (% of the time), ${caption}`}
              rows={charts.up}
              gateways={names}
              from={from}
              to={to}
              unit="%"
              max={100}
              span={to - from}
            />
          )}
        </div>
      )}
      {canOperate && (
        <div className="row">
          <button type="button" className="danger" disabled={failedOver} onClick={() => onAction("failover")}>
            Fail over {card.name}…
          </button>
          {card.failedOverAnywhere && (
            <button type="button" onClick={() => onAction("restore")}>
              Restore {card.name}…
            </button>
          )}
        </div>
      )}
    </section>
  );
}

function OperationProgress({
  op,
  ispNames,
  onClose,
}: {
  op: Operation;
  ispNames: ReadonlyMap<string, string>;
  onClose: () => void;
}) {
  const done = op.gateways.filter((g) => g.afterMs !== null).length;
  const what = `${op.action === "restore" ? "Restore" : "Failover"} of ${ispNames.get(op.ispId) ?? op.ispId}`;
  const state =
    op.outcome === "applied"
      ? `applied on every gateway in ${formatMs(op.allAppliedMs)}`
      : op.outcome === "timed_out"
        ? "timed out: some gateways did not apply it"
        : `${done} of ${op.gateways.length} gateways applied`;
  return (
    <div
      className={`banner ${op.outcome === "applied" ? "ok" : op.outcome === "timed_out" ? "error" : "warn"}`}
      role="status"
      aria-label="Failover progress"
    >
      <div className="row">
        <strong>{what}</strong>
        <span>{state}</span>
        <div className="spacer" />
        <button type="button" className="link" onClick={onClose}>
          Dismiss
        </button>
      </div>
      <div className="row small" style={{ marginTop: 6 }}>
        {op.gateways.map((g) => (
          <span key={g.id} className={g.afterMs === null ? "badge" : "badge ok"} data-gateway={g.name}>
            {g.name}: {g.afterMs === null ? "waiting" : `applied after ${formatMs(g.afterMs)}`}
          </span>
        ))}
      </div>
    </div>
  );
}

function Timeline({
  operations,
  events,
  ispNames,
  onWatch,
}: {
  operations: Operation[];
  events: Overview["events"];
  ispNames: ReadonlyMap<string, string>;
  onWatch: (id: string) => void;
}) {
  return (
    <section className="card" style={{ marginTop: 16 }} aria-label="Failover events">
      <h2 style={{ marginTop: 0 }}>What happened</h2>
      {events.length === 0 && <div className="muted">No failover, failback or alert yet.</div>}
      <table className="data">
        <tbody>
          {events.map((e) => (
            <tr key={e.seq}>
              <td className="small muted" style={{ whiteSpace: "nowrap" }}>
                {new Date(e.at).toLocaleString()}
              </td>
              <td>
                <span className="badge">{e.actorType}</span>
              </td>
              <td className="small">{describeEvent(e, ispNames)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {operations.length > 0 && (
        <div className="row small" style={{ marginTop: 8 }}>
          <span className="muted">Recent operations:</span>
          {operations.map((o) => (
            <button key={o.id} type="button" className="link" onClick={() => onWatch(o.id)}>
              {o.action} {ispNames.get(o.ispId) ?? o.ispId} by {o.actorName} ({o.outcome || "in progress"})
            </button>
          ))}
        </div>
      )}
    </section>
  );
}
