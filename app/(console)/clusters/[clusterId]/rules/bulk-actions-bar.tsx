"use client";

import { ALGORITHM_LABELS, ALGORITHMS, type Algorithm } from "@/core/policy/model";
import type { BulkOperation } from "@/core/policy/bulk-plan";
import { n } from "./rule-filters";

/** What can be done to all selected rules at once; each opens the plan of what would change. */
export function BulkActionsBar({
  count,
  pools,
  names,
  onChoose,
  onClear,
}: {
  /** selected rules */
  count: number;
  pools: readonly { entity: { id: string; name: string; ispId: string } }[] | undefined;
  names: ReadonlyMap<string, string>;
  onChoose: (op: BulkOperation) => void;
  onClear: () => void;
}) {
  return (
    <section className="bulkbar" aria-label="Bulk actions">
      <strong>{n(count)} selected</strong>
      <button type="button" onClick={() => onChoose({ op: "enable" })}>
        Enable
      </button>
      <button type="button" onClick={() => onChoose({ op: "disable" })}>
        Disable
      </button>
      <button type="button" className="danger" onClick={() => onChoose({ op: "delete" })}>
        Delete
      </button>
      <label htmlFor="bulk-pool" className="sr-only">
        Change pool
      </label>
      <select
        id="bulk-pool"
        value=""
        onChange={(x) => x.target.value && onChoose({ op: "setPool", poolId: x.target.value })}
      >
        <option value="">Change pool…</option>
        {(pools ?? []).map((p) => (
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
        onChange={(x) => x.target.value && onChoose({ op: "setAlgorithm", algorithm: x.target.value as Algorithm })}
      >
        <option value="">Change algorithm…</option>
        {ALGORITHMS.map((a) => (
          <option key={a} value={a}>
            {a}: {ALGORITHM_LABELS[a]}
          </option>
        ))}
      </select>
      <div className="spacer" />
      <button type="button" onClick={onClear}>
        Clear selection
      </button>
    </section>
  );
}
