"use client";

import { keepPreviousData, useMutation, useQueries, useQuery, useQueryClient } from "@tanstack/react-query";
import { useVirtualizer } from "@tanstack/react-virtual";
import { useParams } from "next/navigation";
import { type KeyboardEvent, useCallback, useEffect, useMemo, useRef, useState } from "react";
import { ConfirmDelete } from "@/app/components/confirm-delete";
import { useRowDialogs } from "@/app/components/entity-table";
import { useCanEdit, useClusterEntities, useRefreshAll } from "@/app/components/hooks";
import { NewButton, PageHead } from "@/app/components/page-head";
import { FilterSelect, NameOptions, SearchControl } from "@/app/components/toolbar";
import { useDraftWarnings, WARNING_LABELS, WarningList } from "@/app/components/warnings";
import { errorMessage } from "@/app/lib/errors";
import { useTRPC } from "@/app/lib/trpc";
import { ALGORITHM_LABELS, ALGORITHMS, type Algorithm, PROTOCOLS, type Rule } from "@/core/policy/model";
import type { BulkOperation } from "@/core/policy/bulk-plan";
import { PlanDialog } from "./plan-dialog";
import { RuleForm } from "./rule-form";
import { type IspInfo, ruleCells } from "./rule-text";
import "@/app/components/editing.css";

/** Rows per request: a screen and a half; more pages load as the table scrolls. */
const PAGE = 100;
const ROW_HEIGHT = 36;
const HEADER_HEIGHT = 36;
const n = (x: number) => x.toLocaleString("en-US");

interface Filters {
  search: string;
  enabled: "" | "on" | "off";
  action: "" | "snat" | "exclude" | "drop";
  egressIspId: string;
  poolId: string;
  zoneId: string;
  protocol: string;
  warnings: boolean;
  sort: "position" | "seq";
  descending: boolean;
}
const NO_FILTERS: Filters = {
  search: "",
  enabled: "",
  action: "",
  egressIspId: "",
  poolId: "",
  zoneId: "",
  protocol: "",
  warnings: false,
  sort: "position",
  descending: false,
};
const isDefault = (f: Filters) => JSON.stringify(f) === JSON.stringify(NO_FILTERS);

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

const DONE_WORDS: Record<BulkOperation["op"], string> = {
  enable: "Enabled",
  disable: "Disabled",
  delete: "Deleted",
  setPool: "Changed the pool of",
  setAlgorithm: "Changed the algorithm of",
};

const OP_WORDS: Record<BulkOperation["op"], string> = {
  enable: "Enable",
  disable: "Disable",
  delete: "Delete",
  setPool: "Change the pool of",
  setAlgorithm: "Change the algorithm of",
};

function BulkDialog({
  clusterId,
  ruleIds,
  operation,
  onClose,
  onDone,
}: {
  clusterId: string;
  ruleIds: string[];
  operation: BulkOperation;
  onClose: () => void;
  onDone: (changed: number) => void;
}) {
  const trpc = useTRPC();
  const refresh = useRefreshAll();
  const preview = useMutation(trpc.rule.bulkPreview.mutationOptions());
  const apply = useMutation(
    trpc.rule.bulkApply.mutationOptions({
      onSuccess: async (r) => {
        await refresh();
        onDone(r.changed);
      },
    }),
  );
  const { mutate } = preview;
  useEffect(() => {
    mutate({ clusterId, ruleIds, operation });
  }, [mutate, clusterId, ruleIds, operation]);
  const verb = OP_WORDS[operation.op];
  return (
    <PlanDialog
      title={`${verb} ${n(ruleIds.length)} selected rule${ruleIds.length === 1 ? "" : "s"}`}
      preview={preview.data}
      loading={preview.isPending}
      error={preview.error}
      applying={apply.isPending}
      applyError={apply.error}
      applyLabel={(count) => `${verb} ${n(count)} rule${count === 1 ? "" : "s"}`}
      onApply={(draftVersion) => apply.mutate({ clusterId, ruleIds, operation, draftVersion })}
      onClose={onClose}
    />
  );
}

function MoveDialog({
  clusterId,
  ruleId,
  toPosition,
  onClose,
  onDone,
}: {
  clusterId: string;
  ruleId: string;
  toPosition: number;
  onClose: () => void;
  onDone: () => void;
}) {
  const trpc = useTRPC();
  const refresh = useRefreshAll();
  const preview = useQuery(trpc.rule.movePreview.queryOptions({ clusterId, ruleId, toPosition }, { staleTime: 0 }));
  const move = useMutation(
    trpc.rule.move.mutationOptions({
      onSuccess: async () => {
        await refresh();
        onDone();
      },
    }),
  );
  return (
    <PlanDialog
      title={`Move the rule to position ${toPosition}`}
      preview={preview.data}
      loading={preview.isPending}
      error={preview.error}
      applying={move.isPending}
      applyError={move.error}
      applyLabel={(count) => `Move (changes ${n(count)} priorit${count === 1 ? "y" : "ies"})`}
      onApply={(draftVersion) => move.mutate({ clusterId, ruleId, toPosition, draftVersion })}
      onClose={onClose}
    />
  );
}

type Row = { rule: Rule; position: number; version: number };

export default function RulesPage() {
  const { clusterId } = useParams<{ clusterId: string }>();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const refresh = useRefreshAll();
  const canEdit = useCanEdit();
  const { isps, pools, zones, names } = useClusterEntities(clusterId);
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const search = useDebounced(filters.search, 60);
  const setFilter = <K extends keyof Filters>(k: K, v: Filters[K]) => setFilters((f) => ({ ...f, [k]: v }));

  const query = useMemo(
    () => ({
      clusterId,
      search,
      enabled: filters.enabled === "" ? undefined : filters.enabled === "on",
      action: filters.action === "" ? undefined : filters.action,
      egressIspId: filters.egressIspId || undefined,
      poolId: filters.poolId || undefined,
      zoneId: filters.zoneId || undefined,
      protocol: (filters.protocol || undefined) as (typeof PROTOCOLS)[number] | undefined,
      warnings: filters.warnings || undefined,
      sort: filters.sort,
      descending: filters.descending,
    }),
    [clusterId, search, filters],
  );

  const first = useQuery({
    ...trpc.rule.list.queryOptions({ ...query, offset: 0, limit: PAGE }),
    placeholderData: keepPreviousData,
  });
  const total = first.data?.total ?? 0;
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: total,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
    // the sticky header scrolls with the rows: rows start below it, and scrolling to one keeps it visible
    paddingStart: HEADER_HEIGHT,
    scrollPaddingStart: HEADER_HEIGHT,
  });
  const items = virtualizer.getVirtualItems();
  // the rows above and below the rendered ones, as the height of one spacer row each
  const padTop = items.length > 0 ? (items[0]?.start ?? 0) - HEADER_HEIGHT : 0;
  const padBottom = items.length > 0 ? virtualizer.getTotalSize() - (items[items.length - 1]?.end ?? 0) : 0;
  const firstIndex = items[0]?.index ?? 0;
  const lastIndex = items[items.length - 1]?.index ?? 0;
  const pageNums: number[] = [];
  for (let p = Math.floor(firstIndex / PAGE); p <= Math.floor(lastIndex / PAGE); p++) if (p > 0) pageNums.push(p);
  const pages = useQueries({
    queries: pageNums.map((p) => trpc.rule.list.queryOptions({ ...query, offset: p * PAGE, limit: PAGE })),
  });
  const rowAt = (i: number): Row | undefined => {
    const p = Math.floor(i / PAGE);
    const data = p === 0 ? first.data : pages[pageNums.indexOf(p)]?.data;
    return data?.rules[i - p * PAGE];
  };
  const updating = first.isFetching && first.isPlaceholderData;

  // back to the top whenever the filter changes
  const queryKey = JSON.stringify(query);
  const lastKey = useRef(queryKey);
  useEffect(() => {
    if (lastKey.current !== queryKey) {
      lastKey.current = queryKey;
      virtualizer.scrollToOffset(0);
    }
  }, [queryKey, virtualizer]);

  // warnings are the most expensive answer for a large draft: asked for once the rows are on screen
  const warnings = useDraftWarnings(clusterId, Boolean(first.data));
  const ispInfo = useMemo(
    () =>
      new Map<string, IspInfo>(
        (isps.data ?? []).map((i) => [i.entity.id, { name: i.entity.name, nextHop: i.entity.nextHop }]),
      ),
    [isps.data],
  );

  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [bulk, setBulk] = useState<{ op: BulkOperation; ids: string[] } | null>(null);
  const dialogs = useRowDialogs<Row>();
  const [moving, setMoving] = useState<{ ruleId: string; to: number } | null>(null);
  const [notice, setNotice] = useState<{ ok: boolean; text: string } | null>(null);
  const [flash, setFlash] = useState<string | null>(null);
  const [pendingScroll, setPendingScroll] = useState<{ index: number; ruleId: string | null } | null>(null);
  const searchRef = useRef<HTMLInputElement>(null);
  const { openNew } = dialogs;

  useEffect(() => {
    if (pendingScroll === null || first.isPlaceholderData || !first.data) return;
    if (pendingScroll.index < total) {
      virtualizer.scrollToIndex(pendingScroll.index, { align: "center" });
      if (pendingScroll.ruleId) setFlash(pendingScroll.ruleId);
    }
    setPendingScroll(null);
  }, [pendingScroll, first.isPlaceholderData, first.data, total, virtualizer]);
  useEffect(() => {
    if (flash === null) return;
    const t = setTimeout(() => setFlash(null), 2500);
    return () => clearTimeout(t);
  }, [flash]);

  const goTo = useCallback((position: number, ruleId: string | null) => {
    setFilters(NO_FILTERS);
    setPendingScroll({ index: position - 1, ruleId });
  }, []);

  // "/" searches, "n" starts a new rule, from anywhere on the page that is not a text field
  useEffect(() => {
    const onKey = (e: globalThis.KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (t && (t.closest("input, select, textarea, [role=dialog]") || t.isContentEditable)) return;
      if (e.key === "/") {
        e.preventDefault();
        searchRef.current?.focus();
      } else if (e.key === "n" && canEdit) {
        e.preventDefault();
        openNew();
      }
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [canEdit, openNew]);

  const toggle = useMutation(
    trpc.rule.update.mutationOptions({
      onSuccess: async () => {
        await refresh();
      },
      onError: (err) => setNotice({ ok: false, text: errorMessage(err) }),
    }),
  );
  const move = useMutation(
    trpc.rule.move.mutationOptions({
      onError: (err) => setNotice({ ok: false, text: errorMessage(err) }),
    }),
  );

  async function requestMove(row: Row, to: number) {
    setNotice(null);
    try {
      const plan = await queryClient.fetchQuery({
        ...trpc.rule.movePreview.queryOptions({ clusterId, ruleId: row.rule.id, toPosition: to }),
        staleTime: 0,
      });
      if (plan.changeCount === 0) return;
      if (plan.changeCount === 1 && plan.problems.length === 0) {
        await move.mutateAsync({ clusterId, ruleId: row.rule.id, toPosition: to, draftVersion: plan.draftVersion });
        await refresh();
        afterMove(row.rule.id, to);
      } else setMoving({ ruleId: row.rule.id, to });
    } catch (err) {
      setNotice({ ok: false, text: errorMessage(err) });
    }
  }
  function afterMove(ruleId: string, to: number) {
    setMoving(null);
    if (isDefault(filters)) {
      setPendingScroll({ index: to - 1, ruleId });
    } else setFlash(ruleId);
  }

  async function selectAllMatching() {
    try {
      const r = await queryClient.fetchQuery(trpc.rule.ids.queryOptions(query));
      setSelected(new Set(r.ids));
    } catch (err) {
      setNotice({ ok: false, text: errorMessage(err) });
    }
  }

  function onGridKey(e: KeyboardEvent<HTMLTableElement>) {
    if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
    const el = e.target as HTMLElement;
    const rowEl = el.closest<HTMLElement>("[data-index]");
    const col = el.getAttribute("data-col");
    if (!rowEl || !col) return;
    const next = Number(rowEl.dataset.index) + (e.key === "ArrowDown" ? 1 : -1);
    if (next < 0 || next >= total) return;
    e.preventDefault();
    virtualizer.scrollToIndex(next, { align: "auto" });
    const focus = (tries: number) => {
      const target = scrollRef.current?.querySelector<HTMLElement>(`[data-index="${next}"] [data-col="${col}"]`);
      if (target) target.focus();
      else if (tries > 0) setTimeout(() => focus(tries - 1), 16);
    };
    // the next row is usually rendered already (overscan): focus it now, so held-down keys keep up
    const now = scrollRef.current?.querySelector<HTMLElement>(`[data-index="${next}"] [data-col="${col}"]`);
    if (now) now.focus({ preventScroll: true });
    else requestAnimationFrame(() => focus(10));
  }

  const count = first.data?.count ?? 0;
  // the footer describes the rows shown: those of the debounced search, not of what is being typed
  const filtered = !isDefault({ ...filters, search });
  const ruleWarnings = warnings.all.filter((w) => w.entity === "rule" || w.entity === "settings");
  const allSelected = selected.size > 0 && selected.size >= total && total > 0;
  const editingRow = dialogs.form?.row ?? null;
  const { deleting } = dialogs;

  return (
    <>
      <PageHead title="Rules" note="in effective order: the first rule that matches a connection decides it">
        {canEdit && <NewButton kind="rule" onClick={openNew} title="Shortcut: n" />}
      </PageHead>
      {notice && (
        <div className={`banner ${notice.ok ? "ok" : "error"}`} role={notice.ok ? "status" : "alert"}>
          {notice.text}{" "}
          <button type="button" className="link" onClick={() => setNotice(null)}>
            Dismiss
          </button>
        </div>
      )}
      <WarningList warnings={ruleWarnings} label="Rule warnings" onShow={(w) => w.position && goTo(w.position, w.id)} />
      <section className="toolbar" aria-label="Filter rules">
        <SearchControl
          id="rules-search"
          placeholder="network, zone, pool, ISP, comment, #seq"
          value={filters.search}
          onChange={(v) => setFilter("search", v)}
          shortcut="/"
          inputRef={searchRef}
        />
        <FilterSelect
          id="rules-enabled"
          label="State"
          value={filters.enabled}
          onChange={(v) => setFilter("enabled", v as Filters["enabled"])}
        >
          <option value="">all</option>
          <option value="on">enabled</option>
          <option value="off">disabled</option>
        </FilterSelect>
        <FilterSelect
          id="rules-action"
          label="Action"
          value={filters.action}
          onChange={(v) => setFilter("action", v as Filters["action"])}
        >
          <option value="">any</option>
          <option value="snat">SNAT</option>
          <option value="exclude">no NAT</option>
          <option value="drop">drop</option>
        </FilterSelect>
        <FilterSelect
          id="rules-egress"
          label="Egress ISP"
          value={filters.egressIspId}
          onChange={(v) => setFilter("egressIspId", v)}
        >
          <option value="">any</option>
          <NameOptions items={isps.data} />
        </FilterSelect>
        <FilterSelect id="rules-pool" label="Pool" value={filters.poolId} onChange={(v) => setFilter("poolId", v)}>
          <option value="">any</option>
          <NameOptions items={pools.data} />
        </FilterSelect>
        <FilterSelect id="rules-zone" label="Zone" value={filters.zoneId} onChange={(v) => setFilter("zoneId", v)}>
          <option value="">any</option>
          <NameOptions items={zones.data} />
        </FilterSelect>
        <FilterSelect
          id="rules-protocol"
          label="Protocol"
          value={filters.protocol}
          onChange={(v) => setFilter("protocol", v)}
        >
          <option value="">any</option>
          {PROTOCOLS.filter((p) => p !== "any").map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
          <option value="any">only "any"</option>
        </FilterSelect>
        <FilterSelect
          id="rules-order"
          label="Order"
          value={`${filters.sort}${filters.descending ? "-desc" : ""}`}
          onChange={(v) => {
            const [sort, desc] = v.split("-");
            setFilters((f) => ({ ...f, sort: sort as Filters["sort"], descending: desc === "desc" }));
          }}
        >
          <option value="position">effective, first to last</option>
          <option value="position-desc">effective, last to first</option>
          <option value="seq">creation, oldest first</option>
          <option value="seq-desc">creation, newest first</option>
        </FilterSelect>
        <label className="check" htmlFor="rules-warned" style={{ marginBottom: 6 }}>
          <input
            id="rules-warned"
            type="checkbox"
            checked={filters.warnings}
            onChange={(x) => setFilter("warnings", x.target.checked)}
          />
          with warnings
        </label>
        {filtered && (
          <button type="button" onClick={() => setFilters(NO_FILTERS)} style={{ marginBottom: 1 }}>
            Clear filters
          </button>
        )}
      </section>

      {canEdit && selected.size > 0 && (
        <section className="bulkbar" aria-label="Bulk actions">
          <strong>{n(selected.size)} selected</strong>
          <button type="button" onClick={() => setBulk({ op: { op: "enable" }, ids: [...selected] })}>
            Enable
          </button>
          <button type="button" onClick={() => setBulk({ op: { op: "disable" }, ids: [...selected] })}>
            Disable
          </button>
          <button
            type="button"
            className="danger"
            onClick={() => setBulk({ op: { op: "delete" }, ids: [...selected] })}
          >
            Delete
          </button>
          <label htmlFor="bulk-pool" className="sr-only">
            Change pool
          </label>
          <select
            id="bulk-pool"
            value=""
            onChange={(x) =>
              x.target.value && setBulk({ op: { op: "setPool", poolId: x.target.value }, ids: [...selected] })
            }
          >
            <option value="">Change pool…</option>
            {(pools.data ?? []).map((p) => (
              <option key={p.entity.id} value={p.entity.id}>
                {p.entity.name} (ISP {names.get(p.entity.ispId)})
              </option>
            ))}
          </select>
          <label htmlFor="bulk-algorithm" className="sr-only">
            Change algorithm
          </label>
          <select
            id="bulk-algorithm"
            value=""
            onChange={(x) =>
              x.target.value &&
              setBulk({ op: { op: "setAlgorithm", algorithm: x.target.value as Algorithm }, ids: [...selected] })
            }
          >
            <option value="">Change algorithm…</option>
            {ALGORITHMS.map((a) => (
              <option key={a} value={a}>
                {a}: {ALGORITHM_LABELS[a]}
              </option>
            ))}
          </select>
          <div className="spacer" />
          <button type="button" onClick={() => setSelected(new Set())}>
            Clear selection
          </button>
        </section>
      )}

      {first.error && <div className="banner error">{errorMessage(first.error)}</div>}
      <div className="vgrid">
        <div className="vgrid-scroll" ref={scrollRef}>
          <table
            className="rules"
            aria-label="Rules"
            aria-rowcount={total + 1}
            aria-busy={first.isFetching ? true : undefined}
            data-search={search}
            data-shown={first.isPlaceholderData ? "previous" : "current"}
            onKeyDown={onGridKey}
          >
            <colgroup>
              <col style={{ width: 30 }} />
              <col style={{ width: 58 }} />
              <col style={{ width: "15%" }} />
              <col style={{ width: "11%" }} />
              <col style={{ width: 50 }} />
              <col style={{ width: "8%" }} />
              <col style={{ width: "9%" }} />
              <col style={{ width: 60 }} />
              <col style={{ width: "11%" }} />
              <col style={{ width: 36 }} />
              <col />
              <col style={{ width: 104 }} />
            </colgroup>
            <thead>
              <tr aria-rowindex={1}>
                <th scope="col">
                  <input
                    type="checkbox"
                    aria-label={allSelected ? "Clear the selection" : `Select all ${n(total)} matching rules`}
                    title={allSelected ? "Clear the selection" : `Select all ${n(total)} matching rules`}
                    checked={allSelected}
                    disabled={!canEdit || total === 0}
                    onChange={() => (allSelected ? setSelected(new Set()) : selectAllMatching())}
                  />
                </th>
                <th scope="col">Pos.</th>
                <th scope="col">From</th>
                <th scope="col">To</th>
                <th scope="col">Proto</th>
                <th scope="col">Egress ISP</th>
                <th scope="col">Pool</th>
                <th scope="col" title="Algorithm">
                  Alg.
                </th>
                <th scope="col" title="Redirect next hop">
                  Redirect via
                </th>
                <th scope="col">On</th>
                <th scope="col">Comment</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {first.isPending && (
                <tr>
                  <td colSpan={12} className="loading">
                    Loading rules…
                  </td>
                </tr>
              )}
              {first.data && total === 0 && (
                <tr>
                  <td colSpan={12} className="empty">
                    {count === 0
                      ? canEdit
                        ? "No rules yet. Press n or use New rule to add the first one."
                        : "No rules yet."
                      : "No rule matches these filters."}
                  </td>
                </tr>
              )}
              {padTop > 0 && (
                <tr>
                  <td colSpan={12} className="gap" style={{ height: padTop }} />
                </tr>
              )}
              {items.map((item) => {
                const row = rowAt(item.index);
                if (!row) {
                  return (
                    <tr key={item.key} data-index={item.index} aria-rowindex={item.index + 2}>
                      <td colSpan={12} className="muted">
                        Loading…
                      </td>
                    </tr>
                  );
                }
                const { rule, position, version } = row;
                const c = ruleCells(rule, names, ispInfo);
                const w = warnings.byId.get(rule.id);
                const isSel = selected.has(rule.id);
                const cls = [isSel ? "selected" : "", rule.enabled ? "" : "off", flash === rule.id ? "flash" : ""]
                  .filter(Boolean)
                  .join(" ");
                return (
                  <tr
                    key={rule.id}
                    className={cls || undefined}
                    data-index={item.index}
                    data-rule-id={rule.id}
                    aria-rowindex={item.index + 2}
                    aria-selected={isSel}
                  >
                    <td>
                      <input
                        type="checkbox"
                        data-col="select"
                        aria-label={`Select the rule at position ${position}`}
                        checked={isSel}
                        disabled={!canEdit}
                        onChange={() =>
                          setSelected((old) => {
                            const next = new Set(old);
                            if (next.has(rule.id)) next.delete(rule.id);
                            else next.add(rule.id);
                            return next;
                          })
                        }
                      />
                    </td>
                    <td title={rule.priority === null ? "ordered by specificity" : `priority ${rule.priority}`}>
                      {position}
                      {rule.priority !== null && <span className="muted small"> p{rule.priority}</span>}
                    </td>
                    <td className="cell-main mono" title={c.from}>
                      {c.from}
                    </td>
                    <td className="cell-main mono" title={c.to}>
                      {c.to}
                    </td>
                    <td className="cell-main">{c.protocol}</td>
                    <td className="cell-main" title={c.egress}>
                      {c.egress}
                    </td>
                    <td className="cell-main" title={c.pool}>
                      {c.pool}
                    </td>
                    <td className="cell-main" title={c.algorithmLabel}>
                      {c.algorithm}
                    </td>
                    <td className="cell-main mono" title={c.redirect}>
                      {c.redirect}
                    </td>
                    <td>
                      <input
                        type="checkbox"
                        data-col="enabled"
                        aria-label={`${rule.enabled ? "Disable" : "Enable"} the rule at position ${position}`}
                        checked={rule.enabled}
                        disabled={!canEdit || toggle.isPending}
                        onChange={() => {
                          const { id: _id, seq: _seq, ...fields } = rule;
                          toggle.mutate({
                            clusterId,
                            id: rule.id,
                            version,
                            fields: { ...fields, enabled: !rule.enabled },
                          });
                        }}
                      />
                    </td>
                    <td title={[rule.comment, ...(w ?? []).map((x) => x.message)].filter(Boolean).join("\n")}>
                      {(w ?? []).map((x) => (
                        <span key={`${x.code}-${x.message}`} className="badge warn">
                          ⚠ {WARNING_LABELS[x.code]}
                          <span className="sr-only">: {x.message}</span>
                        </span>
                      ))}{" "}
                      {rule.comment}
                    </td>
                    <td className="row-actions">
                      {canEdit && (
                        <>
                          <button
                            type="button"
                            data-col="up"
                            aria-label={`Move the rule at position ${position} up`}
                            disabled={position === 1 || move.isPending}
                            onClick={() => requestMove(row, position - 1)}
                          >
                            ↑
                          </button>
                          <button
                            type="button"
                            data-col="down"
                            aria-label={`Move the rule at position ${position} down`}
                            disabled={position === count || move.isPending}
                            onClick={() => requestMove(row, position + 1)}
                          >
                            ↓
                          </button>
                        </>
                      )}
                      <button
                        type="button"
                        data-col="edit"
                        aria-label={`${canEdit ? "Edit" : "View"} the rule at position ${position}`}
                        onClick={() => dialogs.edit(row)}
                      >
                        {canEdit ? "Edit" : "View"}
                      </button>
                    </td>
                  </tr>
                );
              })}
              {padBottom > 0 && (
                <tr>
                  <td colSpan={12} className="gap" style={{ height: padBottom }} />
                </tr>
              )}
            </tbody>
          </table>
        </div>
        <div className="grid-footer">
          <span id="rules-count" aria-live="polite">
            {first.data
              ? filtered
                ? `${n(total)} of ${n(count)} rules match`
                : `${n(count)} rule${count === 1 ? "" : "s"}`
              : ""}
          </span>
          {updating && <span>updating…</span>}
          {selected.size > 0 && <span>{n(selected.size)} selected</span>}
          <div className="spacer" />
          <span>
            <kbd>/</kbd> search · <kbd>n</kbd> new rule · <kbd>↑</kbd>
            <kbd>↓</kbd> move between rows
          </span>
        </div>
      </div>

      {dialogs.form && (
        <RuleForm
          clusterId={clusterId}
          editing={editingRow}
          warnings={editingRow ? warnings.byId.get(editingRow.rule.id) : undefined}
          onClose={dialogs.closeForm}
          onMove={
            editingRow
              ? (to) => {
                  dialogs.closeForm();
                  requestMove(editingRow, to);
                }
              : undefined
          }
          onDelete={
            editingRow
              ? () => {
                  dialogs.confirmDelete(editingRow);
                  dialogs.closeForm();
                }
              : undefined
          }
        />
      )}
      {deleting && (
        <ConfirmDelete
          kind="rule"
          clusterId={clusterId}
          id={deleting.rule.id}
          version={deleting.version}
          title={`the rule at position ${deleting.position}`}
          onClose={(deleted) => {
            dialogs.closeDelete();
            if (deleted) setNotice({ ok: true, text: `Deleted the rule at position ${deleting.position}.` });
          }}
        />
      )}
      {bulk && (
        <BulkDialog
          clusterId={clusterId}
          ruleIds={bulk.ids}
          operation={bulk.op}
          onClose={() => setBulk(null)}
          onDone={(changed) => {
            const verb = DONE_WORDS[bulk.op.op];
            setBulk(null);
            setSelected(new Set());
            setNotice({ ok: true, text: `${verb} ${n(changed)} rule${changed === 1 ? "" : "s"} in the draft.` });
          }}
        />
      )}
      {moving && (
        <MoveDialog
          clusterId={clusterId}
          ruleId={moving.ruleId}
          toPosition={moving.to}
          onClose={() => setMoving(null)}
          onDone={() => afterMove(moving.ruleId, moving.to)}
        />
      )}
    </>
  );
}
