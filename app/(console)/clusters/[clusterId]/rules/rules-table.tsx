"use client";

import {
  type Announcements,
  closestCenter,
  DndContext,
  type DragEndEvent,
  KeyboardSensor,
  PointerSensor,
  useSensor,
  useSensors,
} from "@dnd-kit/core";
import { SortableContext, sortableKeyboardCoordinates, verticalListSortingStrategy } from "@dnd-kit/sortable";
import { useMutation } from "@tanstack/react-query";
import type { KeyboardEvent } from "react";
import type { RuleOrderMode } from "@/core/policy/model";
import { rulePlace } from "@/core/policy/rule-name";
import { useRefreshAll } from "@/app/components/hooks";
import type { WarningItem } from "@/app/components/warnings";
import { useTRPC } from "@/app/lib/trpc";
import { useRuleCounters } from "./rule-hits";
import { RuleTableRow } from "./rule-table-row";
import { n } from "./rule-filters";
import type { IspInfo } from "./rule-text";
import type { PagedRules, RuleRow } from "./use-paged-rules";
import type { RuleSelection } from "./use-rule-selection";

const COLUMNS = 15;

/**
 * The rules table: a virtual grid of the matching rules with selection, enable toggles, moves
 * and edit buttons; ↑ and ↓ move to the same control one row up or down. Under it, the counts.
 */
export function RulesTable({
  clusterId,
  paged,
  search,
  filtered,
  canEdit,
  mode,
  names,
  ispInfo,
  warningsById,
  selection,
  flash,
  movePending,
  onMove,
  onEdit,
  onError,
}: {
  clusterId: string;
  paged: PagedRules;
  /** the debounced search the rows shown match */
  search: string;
  filtered: boolean;
  canEdit: boolean;
  mode: RuleOrderMode;
  names: ReadonlyMap<string, string>;
  ispInfo: ReadonlyMap<string, IspInfo>;
  warningsById: ReadonlyMap<string, readonly WarningItem[]>;
  selection: RuleSelection;
  /** the rule highlighted for a moment */
  flash: string | null;
  movePending: boolean;
  onMove: (row: RuleRow, to: number) => void;
  onEdit: (row: RuleRow) => void;
  onError: (err: unknown) => void;
}) {
  const trpc = useTRPC();
  const refresh = useRefreshAll();
  const { first, total, count, items, padTop, padBottom, rowAt, scrollRef, virtualizer } = paged;
  const { selected } = selection;
  const allSelected = selected.size > 0 && selected.size >= total && total > 0;
  // the counters of the rows on screen, refreshed as agents report
  const shownIds = items.flatMap((item) => {
    const row = rowAt(item.index);
    return row ? [row.rule.id] : [];
  });
  const counters = useRuleCounters(clusterId, shownIds);
  const countsById = new Map((counters.data?.rules ?? []).map((c) => [c.ruleId, c]));
  const toggle = useMutation(
    trpc.rule.update.mutationOptions({
      onSuccess: async () => {
        await refresh();
      },
      onError,
    }),
  );

  const sensors = useSensors(
    useSensor(PointerSensor, { activationConstraint: { distance: 4 } }),
    useSensor(KeyboardSensor, { coordinateGetter: sortableKeyboardCoordinates }),
  );
  const shown = items.flatMap((item) => {
    const row = rowAt(item.index);
    return row ? [row] : [];
  });
  const byId = new Map(shown.map((r) => [r.rule.id, r]));
  const placeOf = (id: string | number | undefined) => {
    const row = id === undefined ? undefined : byId.get(String(id));
    return row ? rulePlace(row.position) : "a rule";
  };
  // what a screen reader hears while a rule is dragged, in the words the table uses
  const announcements: Announcements = {
    onDragStart: ({ active }) =>
      `Picked up rule ${placeOf(active.id)}. Use the arrow keys to move it, Space to drop it, Escape to cancel.`,
    onDragOver: ({ active, over }) =>
      over
        ? `Rule ${placeOf(active.id)} is over ${placeOf(over.id)}.`
        : `Rule ${placeOf(active.id)} is not over a rule.`,
    onDragEnd: ({ active, over }) =>
      over
        ? `Rule ${placeOf(active.id)} was dropped at ${placeOf(over.id)}.`
        : `Rule ${placeOf(active.id)} was dropped back.`,
    onDragCancel: ({ active }) => `Moving rule ${placeOf(active.id)} was cancelled.`,
  };
  function onDragEnd({ active, over }: DragEndEvent) {
    if (!over || active.id === over.id) return;
    const from = byId.get(String(active.id));
    const to = byId.get(String(over.id));
    if (from && to) onMove(from, to.position);
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

  return (
    <DndContext
      sensors={sensors}
      collisionDetection={closestCenter}
      onDragEnd={onDragEnd}
      accessibility={{
        announcements,
        screenReaderInstructions: {
          draggable:
            "To move this rule, press Space, then the up and down arrow keys, then Space again to drop it, or Escape to cancel.",
        },
      }}
    >
      <SortableContext items={shown.map((r) => r.rule.id)} strategy={verticalListSortingStrategy}>
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
                <col style={{ width: mode === "list" && canEdit ? 78 : 58 }} />
                <col style={{ width: "12%" }} />
                <col style={{ width: "9%" }} />
                <col style={{ width: 50 }} />
                <col style={{ width: "7%" }} />
                <col style={{ width: "7%" }} />
                <col style={{ width: "8%" }} />
                {/* wide enough for the longest algorithm name, "random" */}
                <col style={{ width: 74 }} />
                <col style={{ width: "8%" }} />
                <col style={{ width: "11%" }} />
                <col style={{ width: 36 }} />
                <col style={{ width: 124 }} />
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
                      onChange={() => (allSelected ? selection.clear() : selection.selectAllMatching())}
                    />
                  </th>
                  <th scope="col" title="The rule's place in the effective order: rules are named by it everywhere">
                    #
                  </th>
                  <th scope="col">From</th>
                  <th scope="col">To</th>
                  <th scope="col">Proto</th>
                  <th scope="col" title="Destination ports, input interfaces, operator's fwmark">
                    Also
                  </th>
                  <th scope="col">Egress ISP</th>
                  <th scope="col">Pool</th>
                  <th scope="col" title="Algorithm">
                    Alg.
                  </th>
                  <th scope="col" title="Redirect next hop">
                    Redirect via
                  </th>
                  <th scope="col" title="Where the rule's traffic goes when its ISP fails over, and with which pool">
                    On failover
                  </th>
                  <th scope="col">On</th>
                  <th scope="col" title="New connections the rule decided on the cluster's gateways">
                    Hits
                  </th>
                  <th scope="col">Comment</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {first.isPending && (
                  <tr>
                    <td colSpan={COLUMNS} className="loading">
                      Loading rules…
                    </td>
                  </tr>
                )}
                {first.data && total === 0 && (
                  <tr>
                    <td colSpan={COLUMNS} className="empty">
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
                    <td colSpan={COLUMNS} className="gap" style={{ height: padTop }} />
                  </tr>
                )}
                {items.map((item) => {
                  const row = rowAt(item.index);
                  if (!row) {
                    return (
                      <tr key={item.key} data-index={item.index} aria-rowindex={item.index + 2}>
                        <td colSpan={COLUMNS} className="muted">
                          Loading…
                        </td>
                      </tr>
                    );
                  }
                  const { rule, version } = row;
                  return (
                    <RuleTableRow
                      key={rule.id}
                      row={row}
                      index={item.index}
                      count={count}
                      names={names}
                      ispInfo={ispInfo}
                      warnings={warningsById.get(rule.id)}
                      counts={countsById.get(rule.id)}
                      counters={counters.data}
                      selected={selected.has(rule.id)}
                      flash={flash === rule.id}
                      canEdit={canEdit}
                      mode={mode}
                      busy={{ toggling: toggle.isPending, moving: movePending }}
                      onSelect={() => selection.toggle(rule.id)}
                      onToggleEnabled={() => {
                        const { id: _id, seq: _seq, ...fields } = rule;
                        toggle.mutate({
                          clusterId,
                          id: rule.id,
                          version,
                          fields: { ...fields, enabled: !rule.enabled },
                        });
                      }}
                      onMove={(to) => onMove(row, to)}
                      onEdit={() => onEdit(row)}
                    />
                  );
                })}
                {padBottom > 0 && (
                  <tr>
                    <td colSpan={COLUMNS} className="gap" style={{ height: padBottom }} />
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
            {paged.updating && <span>updating…</span>}
            {selected.size > 0 && <span>{n(selected.size)} selected</span>}
            <div className="spacer" />
            <span>
              <kbd>/</kbd> search · <kbd>n</kbd> new rule · <kbd>↑</kbd>
              <kbd>↓</kbd> move between rows
            </span>
          </div>
        </div>
      </SortableContext>
    </DndContext>
  );
}
