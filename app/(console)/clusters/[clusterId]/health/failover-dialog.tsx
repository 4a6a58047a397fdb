"use client";

import { rulePlace } from "@/core/policy/rule-name";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { errorMessage } from "../../../../lib/errors";
import { Field } from "../../../../components/field";
import { Modal } from "../../../../components/modal";
import { useTRPC } from "../../../../lib/trpc";
import styles from "./health.module.css";
import { STATE_LABELS, stateClass } from "./present";
import { DialogActions } from "@/app/components/dialog-actions";

/**
 * The confirmation of an operator's failover or restore: what will change (the backup and its
 * health on each gateway, the rules and pools that move, the connections that will be cut) before
 * anything does, computed by the console from the published policy.
 */
export function FailoverDialog({
  clusterId,
  isp,
  action,
  onClose,
  onDone,
}: {
  clusterId: string;
  isp: { id: string; name: string; backups: Array<{ id: string; name: string }> };
  action: "failover" | "restore";
  onClose: () => void;
  onDone: (operationId: string) => void;
}) {
  const trpc = useTRPC();
  const [backup, setBackup] = useState<string>("");
  const impact = useQuery(
    trpc.failover.impact.queryOptions(
      { clusterId, ispId: isp.id, backupIspId: backup === "" ? null : backup, action },
      { staleTime: 0, refetchInterval: 2_000 },
    ),
  );
  const mutationOptions = { onSuccess: (r: { operationId: string }) => onDone(r.operationId) };
  const failover = useMutation(trpc.failover.failover.mutationOptions(mutationOptions));
  const restore = useMutation(trpc.failover.restore.mutationOptions(mutationOptions));
  const pending = failover.isPending || restore.isPending;
  const error = failover.error ?? restore.error;
  const i = impact.data;
  const verb = action === "failover" ? "Fail over" : "Restore";
  const title = action === "failover" ? `Fail over ${isp.name}` : `Restore ${isp.name}`;

  function confirm() {
    if (action === "failover")
      failover.mutate({ clusterId, ispId: isp.id, backupIspId: backup === "" ? null : backup });
    else restore.mutate({ clusterId, ispId: isp.id });
  }

  return (
    <Modal title={title} onClose={onClose} wide>
      {action === "failover" ? (
        <p className="muted">
          Every gateway sends the traffic that would leave through {isp.name} through a backup instead (the rule's own
          backup where it has one; rules that never move stay), SNATed to the rule's fallback pool or the backup's
          default pool, and cuts the connections now on {isp.name} so that clients reconnect at once.
        </p>
      ) : (
        <p className="muted">
          New connections leave through {isp.name} again on every gateway; gateways that failed it over on their own let
          it go.
        </p>
      )}
      {action === "failover" && isp.backups.length > 1 && (
        <Field id="fo-backup" label="Backup">
          <select id="fo-backup" value={backup} onChange={(e) => setBackup(e.target.value)}>
            <option value="">First healthy backup on each gateway</option>
            {isp.backups.map((b) => (
              <option key={b.id} value={b.id}>
                {b.name}
              </option>
            ))}
          </select>
        </Field>
      )}
      {impact.isPending && <div className="loading">Working out what would change…</div>}
      {impact.error && <div className="banner error">{errorMessage(impact.error)}</div>}
      {i && (
        <section aria-label="Impact">
          {i.blocked !== null && (
            <div className="banner error" role="alert">
              {i.blocked}
            </div>
          )}
          {i.warnings.map((w) => (
            <div key={w} className="banner warn">
              {w}
            </div>
          ))}
          {i.blocked === null && (
            <ul className={styles.summary}>
              {action === "failover" ? (
                <li>
                  Traffic moves to <strong>{i.backupToUse?.name ?? "—"}</strong>
                </li>
              ) : (
                <li>
                  Traffic comes back from <strong>{i.backupToUse?.name ?? "its backup"}</strong>
                </li>
              )}
              <li>
                <strong>{i.rulesTotal}</strong> rule{i.rulesTotal === 1 ? "" : "s"} change where their connections go
              </li>
              {action === "failover" && i.staying.length > 0 && (
                <li>
                  <strong>{i.staying.length}</strong> rule{i.staying.length === 1 ? " never moves" : "s never move"} and
                  stay{i.staying.length === 1 ? "s" : ""} on {isp.name}
                </li>
              )}
              {action === "failover" && (
                <li>
                  {i.connections === null ? (
                    <>Connections now on {isp.name} (not counted yet) will be cut</>
                  ) : (
                    <>
                      <strong>{i.connections}</strong> connection{i.connections === 1 ? "" : "s"} now on {isp.name} will
                      be cut
                    </>
                  )}
                </li>
              )}
              <li>
                {i.gateways.filter((g) => g.online).length} of {i.gateways.length} gateways online will apply it
              </li>
            </ul>
          )}
          {i.backups.length > 0 && (
            <table className="data" aria-label="Backups">
              <thead>
                <tr>
                  <th>Backup</th>
                  {i.gateways.map((g) => (
                    <th key={g.id}>{g.name}</th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {i.backups.map((b) => (
                  <tr key={b.id}>
                    <td>
                      {b.name}
                      {b.failedOver ? <span className="muted small"> (failed over itself)</span> : null}
                    </td>
                    {i.gateways.map((g) => {
                      const s = b.states[g.name] ?? "unknown";
                      return (
                        <td key={g.id}>
                          <span className={stateClass(s)}>{STATE_LABELS[s]}</span>
                        </td>
                      );
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {i.pools.length > 0 && (
            <div className="small" style={{ margin: "8px 0" }}>
              {i.pools.map((p) => (
                <div key={`${p.from}>${p.to}`}>
                  {p.from} → {p.to}{" "}
                  <span className="muted">
                    ({p.rules} rule{p.rules === 1 ? "" : "s"})
                  </span>
                </div>
              ))}
            </div>
          )}
          {i.rules.length > 0 && (
            <div className={styles.rules}>
              <table className="data" aria-label="Rules affected">
                <thead>
                  <tr>
                    <th>#</th>
                    <th>Rule</th>
                    <th>Now</th>
                    <th>After</th>
                  </tr>
                </thead>
                <tbody>
                  {i.rules.map((r) => (
                    <tr key={r.ruleId}>
                      <td>{rulePlace(r.position)}</td>
                      <td>
                        <span className="mono small">{r.sources.join(", ")}</span>
                        {r.comment && <div className="muted small">{r.comment}</div>}
                      </td>
                      <td className="small">
                        {r.before.map((x) => `${x.ispName} · ${x.poolName ?? "no NAT"}`).join(", ") || "dropped"}
                      </td>
                      <td className="small">
                        {r.after.map((x) => `${x.ispName} · ${x.poolName ?? "no NAT"}`).join(", ") || "dropped"}
                        {r.onFailover === "own" && <span className="muted"> (the rule's own backup)</span>}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {i.rulesTotal > i.rules.length && (
                <div className="muted small">and {i.rulesTotal - i.rules.length} more rules</div>
              )}
            </div>
          )}
          {i.staying.length > 0 && (
            <div className={styles.rules}>
              <table className="data" aria-label="Rules that never move">
                <caption className="small" style={{ textAlign: "left" }}>
                  These rules never move: their connections stay on {isp.name} and are lost while it is down
                </caption>
                <thead>
                  <tr>
                    <th>#</th>
                    <th>Rule</th>
                    <th>Stays on</th>
                  </tr>
                </thead>
                <tbody>
                  {i.staying.map((r) => (
                    <tr key={r.ruleId}>
                      <td>{r.position}</td>
                      <td>
                        <span className="mono small">{r.sources.join(", ")}</span>
                        {r.comment && <div className="muted small">{r.comment}</div>}
                      </td>
                      <td className="small">
                        {r.after.map((x) => `${x.ispName} · ${x.poolName ?? "no NAT"}`).join(", ")}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
      )}
      {error && (
        <div className="banner error" role="alert">
          {errorMessage(error)}
        </div>
      )}
      <DialogActions
        tone={action === "failover" ? "danger" : "primary"}
        onCancel={onClose}
        confirmLabel={`${verb} ${isp.name}`}
        pendingLabel="Working…"
        pending={pending}
        disabled={!i || i.blocked !== null}
        onConfirm={confirm}
      />
    </Modal>
  );
}
