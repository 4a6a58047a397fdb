"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { DialogActions } from "@/app/components/dialog-actions";
import { useRefreshAll } from "@/app/components/hooks";
import { Modal } from "@/app/components/modal";
import { errorMessage } from "@/app/lib/errors";
import { useTRPC } from "@/app/lib/trpc";
import { RULE_ORDER_LABELS, type RuleOrderMode } from "@/core/policy/model";
import { n } from "./rule-filters";

const OTHER: Record<RuleOrderMode, RuleOrderMode> = { specificity: "list", list: "specificity" };

const EXPLAIN: Record<RuleOrderMode, string> = {
  specificity:
    "The rule with the most specific source decides (then destination, then creation order), as lvs-snat does; a priority pins a rule ahead of that. New rules are placed by specificity.",
  list: "The first rule in the list that matches decides, as in iptables chains and dsnat zones. New rules go to the end; drag a row by its handle (or focus the handle, press Space, then ↑/↓ and Space) or use the ↑ ↓ buttons to reorder.",
};

/** The cluster's ordering mode, always in view above the rules, with the way to switch it. */
export function OrderModeBanner({
  clusterId,
  mode,
  canEdit,
  onSwitched,
  error,
}: {
  clusterId: string;
  mode: RuleOrderMode | undefined;
  canEdit: boolean;
  onSwitched: (text: string) => void;
  /** why the cluster's settings could not be read */
  error?: unknown;
}) {
  const [switching, setSwitching] = useState(false);
  if (mode === undefined && error) {
    return (
      <section className="banner error order-mode" aria-label="Rule order" role="alert">
        Could not read which rule order applies: {errorMessage(error)}
      </section>
    );
  }
  if (mode === undefined) {
    return (
      <section className="banner order-mode" aria-label="Rule order" aria-busy="true">
        Loading the rule order…
      </section>
    );
  }
  return (
    <section className="banner order-mode" aria-label="Rule order" data-mode={mode}>
      <strong>Rule order: {mode === "list" ? "rules apply in the order listed" : "most specific first"}.</strong>{" "}
      <span className="muted">{EXPLAIN[mode]}</span>{" "}
      {canEdit && (
        <button type="button" onClick={() => setSwitching(true)}>
          Switch to “{RULE_ORDER_LABELS[OTHER[mode]]}”…
        </button>
      )}
      {switching && (
        <OrderModeDialog
          clusterId={clusterId}
          mode={OTHER[mode]}
          onClose={() => setSwitching(false)}
          onDone={(text) => {
            setSwitching(false);
            onSwitched(text);
          }}
        />
      )}
    </section>
  );
}

/** What switching the mode changes (the rules whose place moves), applied at the draft version shown. */
function OrderModeDialog({
  clusterId,
  mode,
  onClose,
  onDone,
}: {
  clusterId: string;
  mode: RuleOrderMode;
  onClose: () => void;
  onDone: (text: string) => void;
}) {
  const trpc = useTRPC();
  const refresh = useRefreshAll();
  const preview = useQuery(trpc.rule.orderModePreview.queryOptions({ clusterId, mode }, { staleTime: 0 }));
  const apply = useMutation(
    trpc.rule.setOrderMode.mutationOptions({
      onSuccess: async (r) => {
        await refresh();
        onDone(
          `Rules now apply ${r.mode === "list" ? "in the order listed" : "most specific first"} in the draft; ${n(r.rulesMoved)} rule${r.rulesMoved === 1 ? "" : "s"} changed place. Publish to put it into effect.`,
        );
      },
    }),
  );
  const p = preview.data;
  return (
    <Modal title={`Switch to “${RULE_ORDER_LABELS[mode]}”`} onClose={onClose} wide>
      <p>{EXPLAIN[mode]}</p>
      {preview.isPending && <p aria-busy="true">Working out which rules change place…</p>}
      {preview.error && (
        <p className="banner error" role="alert">
          {errorMessage(preview.error)}
        </p>
      )}
      {p && p.changeCount === 0 && <p>No rule changes place: the order stays as it is.</p>}
      {p && p.changeCount > 0 && (
        <>
          <p>
            {n(p.changeCount)} of {n(p.ruleCount)} rules change place:
          </p>
          <section
            className="scroll-list"
            aria-label="Rules that change place"
            // biome-ignore lint/a11y/noNoninteractiveTabindex: it scrolls, so keyboard users must be able to reach it (axe scrollable-region-focusable)
            tabIndex={0}
          >
            <table className="data">
              <thead>
                <tr>
                  <th scope="col">Now</th>
                  <th scope="col">Becomes</th>
                </tr>
              </thead>
              <tbody>
                {p.changes.map((c) => (
                  <tr key={c.ruleId}>
                    <td>{c.name}</td>
                    <td>{c.newName}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
          {p.changeCount > p.changes.length && <p className="muted">and {n(p.changeCount - p.changes.length)} more.</p>}
        </>
      )}
      {apply.error && (
        <p className="banner error" role="alert">
          {errorMessage(apply.error)}
        </p>
      )}
      <DialogActions
        confirmLabel={`Switch to “${RULE_ORDER_LABELS[mode]}”`}
        pendingLabel="Switching…"
        pending={apply.isPending}
        disabled={!p}
        onConfirm={() => p && apply.mutate({ clusterId, mode, draftVersion: p.draftVersion })}
        onCancel={onClose}
      />
    </Modal>
  );
}
