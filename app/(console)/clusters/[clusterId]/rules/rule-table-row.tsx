"use client";

import { useSortable } from "@dnd-kit/sortable";
import { CSS } from "@dnd-kit/utilities";
import { WARNING_LABELS, type WarningItem } from "@/app/components/warnings";
import type { RuleCount, RuleCounters } from "@/server/services/rule-counters/read";
import { HitsCell } from "./rule-hits";
import type { RuleOrderMode } from "@/core/policy/model";
import { rulePlace } from "@/core/policy/rule-name";
import { type IspInfo, ruleCells } from "./rule-text";
import type { RuleRow } from "./use-paged-rules";

/**
 * One rule of the rules table. Its controls carry `data-col`, so the arrow keys can move
 * between the same control of neighbouring rows. In list order the row can be dragged by its
 * handle (pointer, or Space and the arrow keys on the focused handle: the handle has no
 * `data-col`, so the arrows move the rule, not the focus).
 */
export function RuleTableRow({
  row,
  index,
  count,
  names,
  ispInfo,
  warnings,
  counts,
  counters,
  selected,
  flash,
  canEdit,
  mode,
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
  /** the rule's counters; counters: the whole answer (undefined while loading) */
  counts: RuleCount | undefined;
  counters: RuleCounters | undefined;
  selected: boolean;
  flash: boolean;
  canEdit: boolean;
  mode: RuleOrderMode;
  /** a toggle or move is under way: the buttons that start one wait */
  busy: { toggling: boolean; moving: boolean };
  onSelect: () => void;
  onToggleEnabled: () => void;
  onMove: (to: number) => void;
  onEdit: () => void;
}) {
  const { rule, position } = row;
  const name = `rule ${rulePlace(position)}`;
  const draggable = canEdit && mode === "list";
  const sortable = useSortable({ id: rule.id, disabled: !draggable || busy.moving });
  const c = ruleCells(rule, names, ispInfo);
  const cls = [
    selected ? "selected" : "",
    rule.enabled ? "" : "off",
    flash ? "flash" : "",
    sortable.isDragging ? "dragging" : "",
  ]
    .filter(Boolean)
    .join(" ");
  return (
    <tr
      ref={sortable.setNodeRef}
      style={{ transform: CSS.Translate.toString(sortable.transform), transition: sortable.transition }}
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
          aria-label={`Select ${name}`}
          checked={selected}
          disabled={!canEdit}
          onChange={onSelect}
        />
      </td>
      <td
        className="rule-place"
        title={
          mode === "list"
            ? "the rule's place in the list"
            : rule.priority === null
              ? "placed by specificity"
              : `pinned by priority ${rule.priority}`
        }
      >
        {draggable && (
          <button
            type="button"
            className="drag-handle"
            ref={sortable.setActivatorNodeRef}
            {...sortable.attributes}
            {...sortable.listeners}
            aria-label={`Drag ${name} to another place`}
            aria-roledescription="draggable rule"
          >
            ⠿
          </button>
        )}
        {rulePlace(position)}
        {mode === "specificity" && rule.priority !== null && <span className="muted small"> p{rule.priority}</span>}
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
      <td className="cell-main small" title={row.failover}>
        {row.failover ?? ""}
      </td>
      <td>
        <input
          type="checkbox"
          data-col="enabled"
          aria-label={`${rule.enabled ? "Disable" : "Enable"} ${name}`}
          checked={rule.enabled}
          disabled={!canEdit || busy.toggling}
          onChange={onToggleEnabled}
        />
      </td>
      <HitsCell counts={counts} data={counters} />
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
              aria-label={`Move ${name} up`}
              disabled={position === 1 || busy.moving}
              onClick={() => onMove(position - 1)}
            >
              ↑
            </button>
            <button
              type="button"
              data-col="down"
              aria-label={`Move ${name} down`}
              disabled={position === count || busy.moving}
              onClick={() => onMove(position + 1)}
            >
              ↓
            </button>
          </>
        )}
        <button type="button" data-col="edit" aria-label={`${canEdit ? "Edit" : "View"} ${name}`} onClick={onEdit}>
          {canEdit ? "Edit" : "View"}
        </button>
      </td>
    </tr>
  );
}
