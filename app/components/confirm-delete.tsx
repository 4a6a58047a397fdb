"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import { useTRPC } from "../lib/trpc";
import { errorMessage } from "../lib/errors";
import type { EntityKind } from "@/core/policy/entities";
import { useRefreshAll } from "./hooks";
import { Modal } from "./modal";
import { DialogActions } from "./dialog-actions";

/**
 * Asks before deleting, and names what depends on the thing: while anything does, the delete is
 * refused (the server would refuse it too), and the list says what to change first.
 */
export function ConfirmDelete({
  kind,
  clusterId,
  id,
  version,
  title,
  onClose,
}: {
  kind: EntityKind;
  clusterId: string;
  id: string;
  version: number;
  title: string;
  onClose: (deleted: boolean) => void;
}) {
  const trpc = useTRPC();
  const refresh = useRefreshAll();
  const ref = { clusterId, id };
  const dependents = useQuery(
    kind === "isp"
      ? trpc.isp.dependents.queryOptions(ref)
      : kind === "pool"
        ? trpc.pool.dependents.queryOptions(ref)
        : kind === "zone"
          ? trpc.zone.dependents.queryOptions(ref)
          : trpc.rule.dependents.queryOptions(ref),
  );
  const options = {
    onSuccess: async () => {
      await refresh();
      onClose(true);
    },
  };
  const delIsp = useMutation(trpc.isp.delete.mutationOptions(options));
  const delPool = useMutation(trpc.pool.delete.mutationOptions(options));
  const delZone = useMutation(trpc.zone.delete.mutationOptions(options));
  const delRule = useMutation(trpc.rule.delete.mutationOptions(options));
  const del = { isp: delIsp, pool: delPool, zone: delZone, rule: delRule }[kind];
  const deps = dependents.data ?? [];
  const blocked = deps.length > 0;

  return (
    <Modal title={`Delete ${title}?`} onClose={() => onClose(false)}>
      {dependents.isPending && <div className="loading">Checking what depends on it…</div>}
      {dependents.error && <div className="banner error">{errorMessage(dependents.error)}</div>}
      {dependents.data && !blocked && (
        <p>Nothing depends on {title}. Deleting it changes the draft only; gateways change when you publish.</p>
      )}
      {blocked && (
        <div className="banner warn" role="status">
          <p style={{ marginTop: 0 }}>
            {title} cannot be deleted while {deps.length === 1 ? "this depends" : `these ${deps.length} depend`} on it.
            Change or delete {deps.length === 1 ? "it" : "them"} first:
          </p>
          <ul className="scroll-list" style={{ margin: 0, paddingLeft: 18 }}>
            {deps.slice(0, 100).map((d) => (
              <li key={`${d.entity}-${d.id}-${d.path.join(".")}`}>{d.message}</li>
            ))}
            {deps.length > 100 && <li>…and {deps.length - 100} more</li>}
          </ul>
        </div>
      )}
      {del.error && (
        <div className="banner error" role="alert">
          {errorMessage(del.error)}
        </div>
      )}
      <DialogActions
        tone="danger"
        onCancel={() => onClose(false)}
        confirmLabel={`Delete ${title}`}
        pendingLabel="Deleting…"
        pending={del.isPending}
        disabled={!dependents.data || blocked}
        onConfirm={() => del.mutate({ clusterId, id, version })}
      />
    </Modal>
  );
}
