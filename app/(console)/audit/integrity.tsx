"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { type FormEvent, useEffect, useState } from "react";
import { errorMessage } from "../../lib/errors";
import { useTRPC } from "../../lib/trpc";
import { plural, When } from "./ui";

/** The hash-chain check, run on demand: intact, or every event that does not check out. */
export function ChainStatus() {
  const trpc = useTRPC();
  const verify = useQuery({ ...trpc.audit.verify.queryOptions(), enabled: false, retry: false });
  const r = verify.data;
  return (
    <div className="row">
      <button type="button" onClick={() => verify.refetch()} disabled={verify.isFetching}>
        {verify.isFetching ? "Verifying…" : "Verify integrity"}
      </button>
      {verify.error && <span className="badge danger">{errorMessage(verify.error)}</span>}
      {r?.intact === true && !verify.isFetching && (
        <span className="badge ok" role="status">
          Intact: {r.checked} events checked
          {r.anchorSeq > 0 ? ` (from the prune anchor, event #${r.anchorSeq})` : ""}
        </span>
      )}
      {r?.intact === false && !verify.isFetching && (
        <span className="badge danger" role="status">
          {r.missing ? "Events missing" : "Altered"} at{" "}
          {r.missing ? (
            <>event #{r.firstBadSeq}</>
          ) : (
            <Link href={`/audit/${r.firstBadSeq}`}>event #{r.firstBadSeq}</Link>
          )}
          : {r.reason}
          {r.problemCount > 1 && ` (and ${r.problemCount - 1} more)`}
        </span>
      )}
      {r?.unkeyed && !verify.isFetching && (
        <span
          className="badge"
          title="Their hashes were computed without the audit key, so someone who could write the database could have rewritten them"
        >
          {r.unkeyed.count} events (#{r.unkeyed.firstSeq} to #{r.unkeyed.lastSeq}) predate the audit key and were
          checked without it
        </span>
      )}
      {r?.intact === false && r.problemCount > 1 && !verify.isFetching && (
        <details style={{ width: "100%" }}>
          <summary>
            Every event that does not check out ({r.problemCount}
            {r.problemCount > r.problems.length ? `, the first ${r.problems.length} listed` : ""})
          </summary>
          <ul className="small" aria-label="Events that do not check out">
            {r.problems.map((p) => (
              <li key={`${p.seq}-${p.missing}`}>
                {p.missing ? <>event #{p.seq}</> : <Link href={`/audit/${p.seq}`}>event #{p.seq}</Link>}: {p.reason}
              </li>
            ))}
          </ul>
        </details>
      )}
    </div>
  );
}

/** How long the log keeps events; admins change it (an audited change) and can prune at once. */
export function RetentionCard() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const me = useQuery(trpc.auth.me.queryOptions());
  const retention = useQuery(trpc.audit.retention.get.queryOptions());
  const isAdmin = me.data?.role === "admin";
  const [keepAll, setKeepAll] = useState(true);
  const [days, setDays] = useState("365");
  useEffect(() => {
    if (retention.data) {
      setKeepAll(retention.data.keepDays === null);
      if (retention.data.keepDays !== null) setDays(String(retention.data.keepDays));
    }
  }, [retention.data]);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.audit.pathKey() });
  const save = useMutation(trpc.audit.retention.set.mutationOptions({ onSuccess: refresh }));
  const prune = useMutation(trpc.audit.retention.prune.mutationOptions({ onSuccess: refresh }));
  const r = retention.data;

  function submit(e: FormEvent) {
    e.preventDefault();
    save.mutate({ keepDays: keepAll ? null : Number(days) });
  }

  return (
    <section className="card" aria-label="Retention">
      <h2 style={{ marginTop: 0 }}>Retention</h2>
      {retention.error && <div className="banner error">{errorMessage(retention.error)}</div>}
      {r && (
        <p className="small" style={{ marginTop: 0 }}>
          {r.keepDays === null
            ? "Every event is kept."
            : `Events older than ${plural(r.keepDays, "day")} are pruned every hour.`}{" "}
          {r.oldest ? (
            <>
              The oldest event kept is #{r.oldest.seq} from <When at={r.oldest.at} />.
            </>
          ) : (
            "The log is empty."
          )}{" "}
          {r.anchorSeq > 0 && r.prunedAt && (
            <>
              {plural(r.prunedTotal, "event")} pruned so far, the last on <When at={r.prunedAt} />; verification starts
              from the anchor event #{r.anchorSeq} (hash <code title={r.anchorHash}>{r.anchorHash.slice(0, 12)}…</code>
              ).
            </>
          )}
        </p>
      )}
      {isAdmin ? (
        <form onSubmit={submit} className="row">
          <label className="row" style={{ fontWeight: 400, margin: 0 }}>
            <input type="checkbox" checked={keepAll} onChange={(e) => setKeepAll(e.target.checked)} /> Keep every event
          </label>
          {!keepAll && (
            <>
              <label htmlFor="keep-days" style={{ margin: 0 }}>
                Keep days
              </label>
              <input
                id="keep-days"
                type="number"
                min={1}
                max={36500}
                required
                style={{ width: 110 }}
                value={days}
                onChange={(e) => setDays(e.target.value)}
              />
            </>
          )}
          <button type="submit" className="primary" disabled={save.isPending}>
            Save retention
          </button>
          <button
            type="button"
            disabled={prune.isPending || r?.keepDays === null}
            onClick={() => prune.mutate()}
            title="Delete now what the hourly run would delete"
          >
            {prune.isPending ? "Pruning…" : "Prune now"}
          </button>
          {save.isSuccess && <span className="badge ok">Saved</span>}
          {prune.data && (
            <span className="badge" role="status">
              {prune.data.deleted === 0
                ? "Nothing old enough to prune"
                : `Pruned ${plural(prune.data.deleted, "event")}`}
            </span>
          )}
          {(save.error || prune.error) && (
            <div className="field-error" role="alert" style={{ width: "100%" }}>
              {errorMessage(save.error ?? prune.error)}
            </div>
          )}
        </form>
      ) : (
        <p className="muted small">Only admins change the retention period.</p>
      )}
    </section>
  );
}
