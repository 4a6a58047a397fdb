"use client";

import { type ReactNode, useMemo, useState } from "react";
import { errorMessage } from "../lib/errors";
import { ConfirmDelete } from "./confirm-delete";
import { ENTITY_NOUN, type EntityKind } from "@/core/policy/entities";
import type { VersionedRow } from "./entity-kinds";
import { type WarningItem, WarningBadges, WarningSentences } from "./warnings";

interface Named {
  id: string;
  name: string;
}

/**
 * The one form or delete confirmation a table has open, if any. The callbacks keep their
 * identity, so keyboard shortcuts can hold on to them.
 */
export function useRowDialogs<Row>() {
  const [editing, setEditing] = useState<Row | "new" | null>(null);
  const [deleting, setDeleting] = useState<Row | null>(null);
  const actions = useMemo(
    () => ({
      openNew: () => setEditing("new"),
      edit: (row: Row) => setEditing(row),
      closeForm: () => setEditing(null),
      confirmDelete: (row: Row) => setDeleting(row),
      closeDelete: () => setDeleting(null),
    }),
    [],
  );
  return {
    /** the form to show: `row` is null for a new entity; no form while this is null */
    form: editing === null ? null : { row: editing === "new" ? null : editing },
    deleting,
    ...actions,
  };
}

/** The first cell of an entity's row: its name with its warnings, and its comment. */
export function NameCell({
  entity,
  warnings,
}: {
  entity: { name: string; comment: string };
  warnings: readonly WarningItem[] | undefined;
}) {
  return (
    <td>
      <strong>{entity.name}</strong> <WarningBadges warnings={warnings} />
      {entity.comment && <div className="muted small">{entity.comment}</div>}
      <WarningSentences warnings={warnings} />
    </td>
  );
}

/** Edit and Delete for one row, named with what they act on ("Edit ISP telia"); empty for viewers. */
function RowActions({
  kind,
  name,
  canEdit,
  onEdit,
  onDelete,
}: {
  kind: EntityKind;
  name: string;
  canEdit: boolean;
  onEdit: () => void;
  onDelete: () => void;
}) {
  const noun = ENTITY_NOUN[kind];
  return (
    <td style={{ whiteSpace: "nowrap" }}>
      {canEdit && (
        <>
          <button type="button" onClick={onEdit} aria-label={`Edit ${noun} ${name}`}>
            Edit
          </button>{" "}
          <button type="button" className="danger" onClick={onDelete} aria-label={`Delete ${noun} ${name}`}>
            Delete
          </button>
        </>
      )}
    </td>
  );
}

type RowDialogs<Row> = ReturnType<typeof useRowDialogs<Row>>;

/**
 * A table of one kind of entity, with Edit and Delete at the end of each row for those who may
 * edit, and the confirmation a Delete opens. The page keeps the dialogs' state: its New button and
 * its form use it too.
 */
export function EntityTable<E extends Named>({
  kind,
  label,
  clusterId,
  rows,
  canEdit,
  dialogs,
  header,
  cells,
}: {
  kind: EntityKind;
  /** the table's accessible name */
  label: string;
  clusterId: string;
  /** the rows to show, sorted and filtered; no table while there are none */
  rows: readonly VersionedRow<E>[];
  canEdit: boolean;
  dialogs: RowDialogs<VersionedRow<E>>;
  /** the column headers before the actions column */
  header: ReactNode;
  /** the cells of a row before its actions */
  cells: (entity: E) => ReactNode;
}) {
  return (
    <>
      {rows.length > 0 && (
        <table className="data" aria-label={label}>
          <thead>
            <tr>
              {header}
              <th>
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.entity.id}>
                {cells(row.entity)}
                <RowActions
                  kind={kind}
                  name={row.entity.name}
                  canEdit={canEdit}
                  onEdit={() => dialogs.edit(row)}
                  onDelete={() => dialogs.confirmDelete(row)}
                />
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {dialogs.deleting && (
        <ConfirmDelete
          kind={kind}
          clusterId={clusterId}
          id={dialogs.deleting.entity.id}
          version={dialogs.deleting.version}
          title={`${ENTITY_NOUN[kind]} "${dialogs.deleting.entity.name}"`}
          onClose={dialogs.closeDelete}
        />
      )}
    </>
  );
}

/**
 * What a small entity table says instead of rows: that it is loading, why it failed, that there
 * is nothing yet, or that nothing matches the search.
 */
export function TableStatus({
  list,
  shown,
  loading,
  empty,
  noMatch,
}: {
  list: { isPending: boolean; error: unknown; data: readonly unknown[] | undefined };
  /** rows left after the search and filters */
  shown: number;
  loading: string;
  empty: ReactNode;
  noMatch: string;
}) {
  const total = list.data?.length ?? 0;
  return (
    <>
      {list.isPending && <div className="loading">{loading}</div>}
      {list.error ? <div className="banner error">{errorMessage(list.error)}</div> : null}
      {list.data && total === 0 && <div className="card empty">{empty}</div>}
      {total > 0 && shown === 0 && <div className="card empty">{noMatch}</div>}
    </>
  );
}
