"use client";

import { useQuery } from "@tanstack/react-query";
import { useParams } from "next/navigation";
import { useCallback, useMemo, useRef, useState } from "react";
import { ConfirmDelete } from "@/app/components/confirm-delete";
import { useRowDialogs } from "@/app/components/entity-table";
import { useCanEdit, useClusterEntities, useDebounced } from "@/app/components/hooks";
import { NewButton, PageHead } from "@/app/components/page-head";
import { useDraftWarnings, WarningList } from "@/app/components/warnings";
import { errorMessage } from "@/app/lib/errors";
import { useTRPC } from "@/app/lib/trpc";
import { rulePlace } from "@/core/policy/rule-name";
import type { BulkOperation } from "@/core/policy/bulk-plan";
import { BulkActionsBar } from "./bulk-actions-bar";
import { BulkDialog, DONE_WORDS } from "./bulk-dialog";
import { MoveDialog } from "./move-dialog";
import { OrderModeBanner } from "./order-mode";
import { RuleForm } from "./rule-form";
import { isDefault, n, NO_FILTERS, type RuleFilters, ruleListQuery } from "./rule-filters";
import type { IspInfo } from "./rule-text";
import { RulesTable } from "./rules-table";
import { RulesToolbar } from "./rules-toolbar";
import { type RuleRow, usePagedRules } from "./use-paged-rules";
import { useRuleMoves } from "./use-rule-moves";
import { useRuleSelection } from "./use-rule-selection";
import { useRuleShortcuts } from "./use-rule-shortcuts";
import { useScrollToRule } from "./use-scroll-to-rule";
import "@/app/components/editing.css";

type Notice = { ok: boolean; text: string };

export default function RulesPage() {
  const { clusterId } = useParams<{ clusterId: string }>();
  const canEdit = useCanEdit();
  const { isps, pools, zones, names } = useClusterEntities(clusterId);
  const trpc = useTRPC();
  const cluster = useQuery(trpc.cluster.get.queryOptions({ id: clusterId }));
  const mode = cluster.data ? (cluster.data.settings.ruleOrder ?? "specificity") : undefined;
  const [filters, setFilters] = useState<RuleFilters>(NO_FILTERS);
  const search = useDebounced(filters.search, 60);
  const query = useMemo(() => ruleListQuery(clusterId, filters, search), [clusterId, search, filters]);
  const paged = usePagedRules(query);
  const { flash, highlight, scrollTo } = useScrollToRule(paged);

  // warnings are the most expensive answer for a large draft: asked for once the rows are on screen
  const warnings = useDraftWarnings(clusterId, Boolean(paged.first.data));
  const ispInfo = useMemo(
    () =>
      new Map<string, IspInfo>(
        (isps.data ?? []).map((i) => [i.entity.id, { name: i.entity.name, nextHop: i.entity.nextHop }]),
      ),
    [isps.data],
  );

  const [notice, setNotice] = useState<Notice | null>(null);
  const showError = useCallback((err: unknown) => setNotice({ ok: false, text: errorMessage(err) }), []);
  const selection = useRuleSelection(query, showError);
  const [bulk, setBulk] = useState<{ op: BulkOperation; ids: string[] } | null>(null);
  const dialogs = useRowDialogs<RuleRow>();
  const moves = useRuleMoves({
    clusterId,
    listOrder: mode === "list",
    onStart: () => setNotice(null),
    onError: showError,
    onMoved: (ruleId, to) => (isDefault(filters) ? scrollTo(to - 1, ruleId) : highlight(ruleId)),
  });
  const searchRef = useRef<HTMLInputElement>(null);
  useRuleShortcuts(searchRef, canEdit ? dialogs.openNew : null);

  const goTo = (position: number, ruleId: string | null) => {
    setFilters(NO_FILTERS);
    scrollTo(position - 1, ruleId);
  };
  // the footer describes the rows shown: those of the debounced search, not of what is being typed
  const filtered = !isDefault({ ...filters, search });
  const ruleWarnings = warnings.all.filter((w) => w.entity === "rule" || w.entity === "settings");
  const editingRow = dialogs.form?.row ?? null;
  const { deleting } = dialogs;
  const { moving } = moves;

  return (
    <>
      <PageHead title="Rules" note="in effective order: the first rule that matches a connection decides it">
        {canEdit && <NewButton kind="rule" onClick={dialogs.openNew} title="Shortcut: n" />}
      </PageHead>
      <OrderModeBanner
        clusterId={clusterId}
        mode={mode}
        canEdit={canEdit}
        error={cluster.error}
        onSwitched={(text) => setNotice({ ok: true, text })}
      />
      {notice && (
        <div className={`banner ${notice.ok ? "ok" : "error"}`} role={notice.ok ? "status" : "alert"}>
          {notice.text}{" "}
          <button type="button" className="link" onClick={() => setNotice(null)}>
            Dismiss
          </button>
        </div>
      )}
      <WarningList warnings={ruleWarnings} label="Rule warnings" onShow={(w) => w.position && goTo(w.position, w.id)} />
      <RulesToolbar
        filters={filters}
        setFilters={setFilters}
        filtered={filtered}
        isps={isps.data}
        pools={pools.data}
        zones={zones.data}
        searchRef={searchRef}
      />
      {canEdit && selection.selected.size > 0 && (
        <BulkActionsBar
          count={selection.selected.size}
          pools={pools.data}
          names={names}
          onChoose={(op) => setBulk({ op, ids: [...selection.selected] })}
          onClear={selection.clear}
        />
      )}

      {paged.first.error && <div className="banner error">{errorMessage(paged.first.error)}</div>}
      <RulesTable
        clusterId={clusterId}
        paged={paged}
        search={search}
        filtered={filtered}
        canEdit={canEdit}
        mode={mode ?? "specificity"}
        names={names}
        ispInfo={ispInfo}
        warningsById={warnings.byId}
        selection={selection}
        flash={flash}
        movePending={moves.pending}
        onMove={moves.requestMove}
        onEdit={dialogs.edit}
        onError={showError}
      />

      {dialogs.form && (
        <RuleForm
          clusterId={clusterId}
          editing={editingRow}
          warnings={editingRow ? warnings.byId.get(editingRow.rule.id) : undefined}
          onClose={dialogs.closeForm}
          listOrder={mode === "list"}
          onPlaced={(placed, wanted) => {
            if (wanted !== null && wanted !== placed.position && mode === "list") {
              // a new rule put at a place in the list: moved there like a dragged one
              moves.requestMove({ rule: { id: placed.ruleId } }, Math.min(wanted, placed.count)).then((moved) => {
                if (!moved) return;
                setNotice({
                  ok: true,
                  text: `Placed at ${rulePlace(Math.min(wanted, placed.count))} of ${placed.count}, where you put it: rules apply in the order listed.`,
                });
              });
              return;
            }
            setNotice({ ok: true, text: placed.text });
            if (isDefault(filters)) scrollTo(placed.position - 1, placed.ruleId);
            else highlight(placed.ruleId);
          }}
          onMove={
            editingRow
              ? (to) => {
                  dialogs.closeForm();
                  moves.requestMove(editingRow, to);
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
          title={`rule ${rulePlace(deleting.position)}`}
          onClose={(deleted) => {
            dialogs.closeDelete();
            if (deleted) setNotice({ ok: true, text: `Deleted rule ${rulePlace(deleting.position)}.` });
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
            setBulk(null);
            selection.clear();
            setNotice({
              ok: true,
              text: `${DONE_WORDS[bulk.op.op]} ${n(changed)} rule${changed === 1 ? "" : "s"} in the draft.`,
            });
          }}
        />
      )}
      {moving && (
        <MoveDialog
          clusterId={clusterId}
          ruleId={moving.ruleId}
          toPosition={moving.to}
          onClose={moves.cancel}
          onDone={() => moves.finish(moving.ruleId, moving.to)}
        />
      )}
    </>
  );
}
