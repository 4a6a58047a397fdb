"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useEffect, useMemo, useRef, useState } from "react";
import { type FilterValues, filterFromParams, filterToParams } from "@/core/audit/filter-params";
import { errorMessage } from "../../lib/errors";
import { useTRPC } from "../../lib/trpc";
import { describeEvent } from "./describe";
import { Actor, plural, When } from "./ui";

/**
 * The audit timeline with its filters: the global log, or one cluster's history when clusterId
 * is given. The filter lives in the page address, so a view can be bookmarked or sent to a
 * colleague; pages are keyset pages kept as a stack of cursors, so "Newer" goes back exactly.
 */

const PAGE_SIZE = 50;
const TYPING_DELAY_MS = 300;

const PRESETS: Array<[string, number | null]> = [
  ["Any time", null],
  ["Last hour", 3600_000],
  ["Last 24 hours", 86_400_000],
  ["Last 7 days", 7 * 86_400_000],
  ["Last 30 days", 30 * 86_400_000],
];

const ORIGINS: Array<[string, string]> = [
  ["", "Anyone"],
  ["user", "A person"],
  ["agent", "A gateway agent"],
  ["system", "The console (automatic)"],
];

/** datetime-local works in local time without a zone. */
function toLocalInput(d: Date | undefined): string {
  if (d === undefined) return "";
  const local = new Date(d.getTime() - d.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
}

function fromLocalInput(v: string): Date | undefined {
  if (v === "") return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** Action families ("rule.", "isp.") first, then every action the log holds. */
function actionSuggestions(actions: readonly string[]): string[] {
  const families = [...new Set(actions.map((a) => `${a.split(".")[0]}.`))];
  return [...families, ...actions];
}

export function AuditTimeline({ clusterId }: { clusterId?: string }) {
  const trpc = useTRPC();
  const router = useRouter();
  const pathname = usePathname();
  const search = useSearchParams();
  const urlFilter = useMemo(() => filterFromParams(new URLSearchParams(search.toString())).filter, [search]);
  const [form, setForm] = useState<FilterValues>(urlFilter);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const committed = useRef<string | null>(null);

  // the address is the source of truth (back/forward, shared links), except for the change we
  // just made ourselves: keystrokes typed since then must not be overwritten
  useEffect(() => {
    if (filterToParams(urlFilter).toString() !== committed.current) setForm(urlFilter);
  }, [urlFilter]);

  function commit(next: FilterValues, delay: number) {
    setForm(next);
    clearTimeout(timer.current);
    timer.current = setTimeout(() => {
      const qs = filterToParams(next).toString();
      committed.current = qs;
      router.replace(qs ? `${pathname}?${qs}` : pathname, { scroll: false });
    }, delay);
  }
  const setText = (key: keyof FilterValues) => (value: string) =>
    commit({ ...form, [key]: value === "" ? undefined : value }, TYPING_DELAY_MS);
  const setNow = (key: keyof FilterValues, value: unknown) => commit({ ...form, [key]: value }, 0);

  const filter = useMemo(
    () => ({ ...urlFilter, clusterId: clusterId ?? urlFilter.clusterId }) as FilterValues,
    [urlFilter, clusterId],
  );
  const filterKey = JSON.stringify(filter);
  const [pages, setPages] = useState<{ key: string; cursors: (number | undefined)[] }>({
    key: filterKey,
    cursors: [undefined],
  });
  const cursors = pages.key === filterKey ? pages.cursors : [undefined];
  const before = cursors.at(-1);

  const list = useQuery(
    trpc.audit.list.queryOptions(
      {
        ...filter,
        actorType: filter.actorType as "user" | "agent" | "system" | undefined,
        before,
        limit: PAGE_SIZE,
      },
      { placeholderData: keepPreviousData, refetchInterval: cursors.length === 1 ? 10_000 : false },
    ),
  );
  const facets = useQuery(trpc.audit.facets.queryOptions(undefined, { staleTime: 60_000 }));
  const clusters = useQuery(trpc.cluster.list.queryOptions(undefined, { enabled: clusterId === undefined }));

  const exportQuery = filterToParams(filter);
  const exportHref = (format: string) => {
    const p = new URLSearchParams(exportQuery);
    p.set("format", format);
    return `/api/audit/export?${p.toString()}`;
  };
  const page = list.data;
  const filtered = Object.values(urlFilter).some((v) => v !== undefined);

  return (
    <section aria-label="Timeline">
      <form className="hx-filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter events">
        <div className="wide">
          <label htmlFor="f-q">Search</label>
          <input
            id="f-q"
            type="search"
            placeholder='names, addresses, values; "exact phrase"'
            value={form.q ?? ""}
            onChange={(e) => setText("q")(e.target.value)}
          />
        </div>
        <div>
          <label htmlFor="f-action">Action</label>
          <input
            id="f-action"
            list="f-action-list"
            placeholder="e.g. rule. or isp.failover"
            value={form.action ?? ""}
            onChange={(e) => setText("action")(e.target.value)}
          />
          <datalist id="f-action-list">
            {actionSuggestions(facets.data?.actions ?? []).map((a) => (
              <option key={a} value={a} />
            ))}
          </datalist>
        </div>
        <div>
          <label htmlFor="f-actor">Actor</label>
          <input
            id="f-actor"
            list="f-actor-list"
            placeholder="user or gateway name"
            value={form.actor ?? ""}
            onChange={(e) => setText("actor")(e.target.value)}
          />
          <datalist id="f-actor-list">
            {(facets.data?.actors ?? []).map((a) => (
              <option key={a} value={a} />
            ))}
          </datalist>
        </div>
        <div>
          <label htmlFor="f-origin">Origin</label>
          <select
            id="f-origin"
            value={form.actorType ?? ""}
            onChange={(e) => setNow("actorType", e.target.value || undefined)}
          >
            {ORIGINS.map(([v, label]) => (
              <option key={v} value={v}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor="f-entity">Entity</label>
          <select
            id="f-entity"
            value={form.targetType ?? ""}
            onChange={(e) => commit({ ...form, targetType: e.target.value || undefined, targetId: undefined }, 0)}
          >
            <option value="">Any</option>
            {[...new Set([...(facets.data?.targetTypes ?? []), ...(form.targetType ? [form.targetType] : [])])].map(
              (t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ),
            )}
          </select>
        </div>
        {clusterId === undefined && (
          <div>
            <label htmlFor="f-cluster">Cluster</label>
            <select
              id="f-cluster"
              value={form.clusterId ?? ""}
              onChange={(e) => setNow("clusterId", e.target.value || undefined)}
            >
              <option value="">All clusters and the console</option>
              {(clusters.data ?? []).map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name}
                </option>
              ))}
              {form.clusterId && !clusters.data?.some((c) => c.id === form.clusterId) && (
                <option value={form.clusterId}>{form.clusterId} (deleted)</option>
              )}
            </select>
          </div>
        )}
        <div>
          <label htmlFor="f-period">Period</label>
          <select
            id="f-period"
            value=""
            onChange={(e) => {
              const ms = Number(e.target.value);
              commit(
                { ...form, from: e.target.value === "any" ? undefined : new Date(Date.now() - ms), to: undefined },
                0,
              );
            }}
          >
            <option value="" disabled>
              Choose…
            </option>
            {PRESETS.map(([label, ms]) => (
              <option key={label} value={ms === null ? "any" : String(ms)}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor="f-from">From</label>
          <input
            id="f-from"
            type="datetime-local"
            value={toLocalInput(form.from)}
            onChange={(e) => setNow("from", fromLocalInput(e.target.value))}
          />
        </div>
        <div>
          <label htmlFor="f-to">Until</label>
          <input
            id="f-to"
            type="datetime-local"
            value={toLocalInput(form.to)}
            onChange={(e) => setNow("to", fromLocalInput(e.target.value))}
          />
        </div>
      </form>

      <div className="hx-toolbar">
        {filtered && (
          <button type="button" onClick={() => commit({}, 0)}>
            Clear filters
          </button>
        )}
        {form.targetId && (
          <span className="badge">
            only {form.targetType} {form.targetId}{" "}
            <button
              type="button"
              className="link"
              aria-label="Show every entity"
              onClick={() => setNow("targetId", undefined)}
            >
              ×
            </button>
          </span>
        )}
        <div className="spacer" />
        <span className="muted small">Download these events:</span>
        <a className="button" href={exportHref("csv")} download>
          CSV
        </a>
        <a className="button" href={exportHref("jsonl")} download>
          JSON Lines
        </a>
      </div>

      {list.error && (
        <div className="banner error" role="alert">
          {errorMessage(list.error)}
        </div>
      )}
      {list.isPending && <div className="loading">Loading events…</div>}
      {page && page.events.length === 0 && (
        <div className="card empty" role="status">
          {page.searchedDownTo !== undefined
            ? `No matches among the events newer than #${page.searchedDownTo}.`
            : filtered || clusterId
              ? "No events match."
              : "No events yet."}
        </div>
      )}
      {page && page.events.length > 0 && (
        <table className="data" aria-label="Audit events" aria-busy={list.isFetching}>
          <thead>
            <tr>
              <th>#</th>
              <th>When</th>
              <th>Who</th>
              <th>Action</th>
              <th>What happened</th>
              {clusterId === undefined && <th>Cluster</th>}
              <th>Client</th>
            </tr>
          </thead>
          <tbody>
            {page.events.map((e) => (
              <tr key={e.seq}>
                <td className="mono">
                  <Link href={`/audit/${e.seq}`} aria-label={`Event ${e.seq}`}>
                    #{e.seq}
                  </Link>
                </td>
                <td>
                  <When at={e.at} />
                </td>
                <td>
                  <Actor name={e.actorName} type={e.actorType} />
                </td>
                <td className="mono">{e.action}</td>
                <td className="hx-summary">
                  <Link href={`/audit/${e.seq}`} style={{ color: "inherit" }}>
                    {describeEvent(e)}
                  </Link>
                </td>
                {clusterId === undefined && (
                  <td className="small">
                    {e.clusterId === null ? (
                      <span className="muted">—</span>
                    ) : e.clusterName ? (
                      <Link href={`/clusters/${e.clusterId}/history`}>{e.clusterName}</Link>
                    ) : (
                      <span className="muted" title={e.clusterId}>
                        deleted
                      </span>
                    )}
                  </td>
                )}
                <td className="mono small">{e.ip || <span className="muted">—</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {page?.searchedDownTo !== undefined && (
        <div className="muted small" role="status" style={{ marginTop: 6 }}>
          Searched the events newer than #{page.searchedDownTo}
          {page.events.length > 0 ? ` (${plural(page.events.length, "match")} on this page)` : ""}; older events are
          searched on the next page.
        </div>
      )}
      <div className="row" style={{ marginTop: 10 }}>
        <button
          type="button"
          disabled={cursors.length <= 1}
          onClick={() => setPages({ key: filterKey, cursors: cursors.slice(0, -1) })}
        >
          Newer
        </button>
        <button
          type="button"
          disabled={page?.nextBefore === undefined || list.isPlaceholderData}
          onClick={() => setPages({ key: filterKey, cursors: [...cursors, page?.nextBefore] })}
        >
          {page?.searchedDownTo !== undefined ? "Search older events" : "Older"}
        </button>
        {cursors.length > 1 && (
          <button type="button" className="link" onClick={() => setPages({ key: filterKey, cursors: [undefined] })}>
            Back to the newest
          </button>
        )}
      </div>
    </section>
  );
}
