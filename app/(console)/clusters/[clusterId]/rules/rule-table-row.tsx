"use client";

import { WARNING_LABELS, type WarningItem } from "@/app/components/warnings";
import { type IspInfo, ruleCells } from "./rule-text";
import type { RuleRow } from "./use-paged-rules";

/**
 * One rule of the rules table. Its controls carry `data-col`, so the arrow keys can move
 * between the same control of neighbouring rows.
 */
export function RuleTableRow({
  row,
  index,
  count,
  names,
  ispInfo,
  warnings,
  selected,
  flash,
  canEdit,
  busy,
  onSelect,
  onToggleEnabled,
  onMove,
  onEdit,
}: {
  row: RuleRow;
  /** 0-based index among the rows shown */
  index: number;
  /** rules in the draft */
  count: number;
  names: ReadonlyMap<string, string>;
  ispInfo: ReadonlyMap<string, IspInfo>;
  warnings: readonly WarningItem[] | undefined;
  selected: boolean;
  flash: boolean;
  canEdit: boolean;
  /** a toggle or move is under way: the buttons that start one wait */
  busy: { toggling: boolean; moving: boolean };
  onSelect: () => void;
  onToggleEnabled: () => void;
  onMove: (to: number) => void;
  onEdit: () => void;
}) {
  const { rule, position } = row;
  const c = ruleCells(rule, names, ispInfo);
  const cls = [selected ? "selected" : "", rule.enabled ? "" : "off", flash ? "flash" : ""].filter(Boolean).join(" ");
  return (
    <tr
      className={cls || undefined}
      data-index={index}
      data-rule-id={rule.id}
      aria-rowindex={index + 2}
      aria-selected={selected}
    >
      <td>
        <input
          type="checkbox"
          data-col="select"
          aria-label={`Select the rule at position ${position}`}
          checked={selected}
          disabled={!canEdit}
          onChange={onSelect}
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
      <td className="cell-main mono" title={c.criteria}>
        {c.criteria}
      </td>
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
          disabled={!canEdit || busy.toggling}
          onChange={onToggleEnabled}
        />
      </td>
      <td title={[rule.comment, ...(warnings ?? []).map((x) => x.message)].filter(Boolean).join("\n")}>
        {(warnings ?? []).map((x) => (
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
              disabled={position === 1 || busy.moving}
              onClick={() => onMove(position - 1)}
            >
              ↑
            </button>
            <button
              type="button"
              data-col="down"
              aria-label={`Move the rule at position ${position} down`}
              disabled={position === count || busy.moving}
              onClick={() => onMove(position + 1)}
            >
              ↓
            </button>
          </>
        )}
        <button
          type="button"
          data-col="edit"
          aria-label={`${canEdit ? "Edit" : "View"} the rule at position ${position}`}
          onClick={onEdit}
        >
          {canEdit ? "Edit" : "View"}
        </button>
      </td>
    </tr>
  );
}
