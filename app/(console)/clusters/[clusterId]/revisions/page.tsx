"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useParams, usePathname, useRouter, useSearchParams } from "next/navigation";
import { type FormEvent, Suspense, useState } from "react";
import { Field, inputProps, withSubject } from "../../../../components/field";
import { Modal } from "../../../../components/modal";
import type { RolloutState } from "@/server/services/revisions/rollout";
import { errorMessage, fieldErrors } from "../../../../lib/errors";
import { useTRPC } from "../../../../lib/trpc";
import { plural, When } from "../../../audit/ui";
import { PolicyDiffView, RulesetDiffView } from "./diff-views";
import { ExportDialog } from "./export-dialog";
import { DialogActions } from "@/app/components/dialog-actions";

const PAGE_SIZE = 30;

function RolloutBadge({ gateway, state }: { gateway: string; state: RolloutState | undefined }) {
  if (state === undefined || state.state === "never") {
    return (
      <span className="badge" title="never applied on this gateway">
        {gateway}: —
      </span>
    );
  }
  switch (state.state) {
    case "applied":
      return <span className="badge ok">{gateway}: applied</span>;
    case "pending":
      return <span className="badge warn">{gateway}: pending</span>;
    case "replaced":
      return (
        <span className="badge" title="applied, then replaced by a later revision">
          {gateway}: applied earlier
        </span>
      );
    case "failed":
      return (
        <span className="badge danger" title={state.error}>
          {gateway}: failed — {state.error.length > 80 ? `${state.error.slice(0, 79)}…` : state.error}
        </span>
      );
  }
}

function RevertDialog({
  clusterId,
  revision,
  published,
  onClose,
  onDone,
}: {
  clusterId: string;
  revision: number;
  published: number;
  onClose: () => void;
  onDone: (newRevision: number) => void;
}) {
  const trpc = useTRPC();
  const [message, setMessage] = useState("");
  const draft = useQuery(trpc.draft.status.queryOptions({ clusterId }));
  const revert = useMutation(trpc.revision.revert.mutationOptions({ onSuccess: (r) => onDone(r.number) }));
  const errors = fieldErrors(revert.error);

  function submit(e: FormEvent) {
    e.preventDefault();
    revert.mutate({ clusterId, revision, message });
  }

  return (
    <Modal title={`Revert to revision ${revision}`} onClose={onClose}>
      <form onSubmit={submit}>
        <p>
          This publishes a copy of revision {revision} as revision {published + 1}, and every gateway of the cluster
          applies it. Revision {published} stays in the history and can be restored the same way.
        </p>
        {draft.data?.dirty && (
          <div className="banner warn" role="alert">
            The draft has {plural(draft.data.diff.summary.total, "unpublished change")}: reverting replaces the draft
            with revision {revision}, and those changes are lost.
          </div>
        )}
        <Field
          id="revert-message"
          label="Message"
          hint="why you are reverting; it is kept with the revision"
          errors={withSubject("Message", errors.message)}
        >
          <textarea
            {...inputProps("revert-message", withSubject("Message", errors.message))}
            rows={3}
            required
            maxLength={500}
            value={message}
            onChange={(e) => setMessage(e.target.value)}
          />
        </Field>
        {revert.error && !errors.message && (
          <div className="banner error" role="alert">
            {errorMessage(revert.error)}
          </div>
        )}
        <DialogActions
          tone="danger"
          onCancel={onClose}
          confirmLabel={`Revert to revision ${revision}`}
          pendingLabel="Reverting…"
          pending={revert.isPending}
          disabled={message.trim() === ""}
        />
      </form>
    </Modal>
  );
}

function RevisionSelect({
  id,
  label,
  value,
  options,
  onChange,
}: {
  id: string;
  label: string;
  value: number;
  options: number[];
  onChange: (n: number) => void;
}) {
  const all = [...new Set([...options, value, 0])].sort((a, b) => b - a);
  return (
    <Field id={id} label={label} style={{ marginBottom: 0 }}>
      <select id={id} value={value} onChange={(e) => onChange(Number(e.target.value))} style={{ width: "auto" }}>
        {all.map((n) => (
          <option key={n} value={n}>
            {n === 0 ? "0 (empty, before the first publish)" : `revision ${n}`}
          </option>
        ))}
      </select>
    </Field>
  );
}

function RevisionsView() {
  const { clusterId } = useParams<{ clusterId: string }>();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const router = useRouter();
  const pathname = usePathname();
  const search = useSearchParams();
  const [cursors, setCursors] = useState<(number | undefined)[]>([undefined]);
  const [reverting, setReverting] = useState<number | null>(null);
  const [exporting, setExporting] = useState<number | "draft" | null>(null);
  const [done, setDone] = useState<{ from: number; to: number } | null>(null);
  const me = useQuery(trpc.auth.me.queryOptions());
  const list = useQuery(
    trpc.audit.revisions.queryOptions(
      { clusterId, cursor: cursors.at(-1), limit: PAGE_SIZE },
      { refetchInterval: 5_000 },
    ),
  );
  const canRevert = me.data?.role === "operator" || me.data?.role === "admin";
  const data = list.data;
  const published = data?.publishedRevision ?? 0;

  const num = (key: string) => {
    const v = search.get(key);
    return v !== null && /^\d{1,9}$/.test(v) ? Number(v) : null;
  };
  const to = num("to") ?? published;
  const from = num("from") ?? Math.max(0, to - 1);
  const setCompare = (f: number, t: number) => router.replace(`${pathname}?from=${f}&to=${t}`, { scroll: false });

  if (list.isPending) return <div className="loading">Loading revisions…</div>;
  if (list.error) return <div className="banner error">{errorMessage(list.error)}</div>;
  if (!data) return null;

  return (
    <>
      {done && (
        <div className="banner ok" role="status">
          Published revision {done.to}, a copy of revision {done.from}. Gateways are applying it.{" "}
          <Link href={`/clusters/${clusterId}/history?action=cluster.`}>See it in the history</Link>
        </div>
      )}
      <div className="row" style={{ marginBottom: 8 }}>
        <div className="spacer" />
        <button type="button" onClick={() => setExporting("draft")}>
          Export the draft
        </button>
      </div>
      {exporting !== null && (
        <ExportDialog clusterId={clusterId} revision={exporting} onClose={() => setExporting(null)} />
      )}
      {data.revisions.length === 0 ? (
        <div className="card empty">Nothing has been published yet.</div>
      ) : (
        <table className="data" aria-label="Revisions">
          <thead>
            <tr>
              <th>#</th>
              <th>Published</th>
              <th>By</th>
              <th>Message</th>
              <th>Rollout</th>
              <th>
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {data.revisions.map((r) => (
              <tr key={r.number} aria-label={`Revision ${r.number}`}>
                <td className="mono">
                  {r.number}
                  {r.number === published && (
                    <div>
                      <span className="badge ok">published</span>
                    </div>
                  )}
                </td>
                <td>
                  <When at={r.createdAt} />
                </td>
                <td>{r.authorName}</td>
                <td style={{ maxWidth: 320, overflowWrap: "anywhere" }}>
                  {r.message}
                  {r.revertedFrom !== null && <div className="small muted">a copy of revision {r.revertedFrom}</div>}
                </td>
                <td>
                  {data.gateways.length === 0 ? (
                    <span className="muted small">no gateways</span>
                  ) : (
                    <div className="hx-rollout">
                      {data.gateways.map((g) => (
                        <RolloutBadge key={g.id} gateway={g.name} state={r.rollout[g.id]} />
                      ))}
                    </div>
                  )}
                </td>
                <td>
                  <div className="row" style={{ flexWrap: "nowrap" }}>
                    <button type="button" onClick={() => setCompare(Math.max(0, r.number - 1), r.number)}>
                      Changes
                    </button>
                    <button type="button" onClick={() => setExporting(r.number)}>
                      Export
                    </button>
                    {r.number !== published && (
                      <button
                        type="button"
                        disabled={!canRevert}
                        title={canRevert ? undefined : "Reverting needs the operator role"}
                        onClick={() => setReverting(r.number)}
                      >
                        Revert to this
                      </button>
                    )}
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="row" style={{ marginTop: 8 }}>
        <button type="button" disabled={cursors.length <= 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
          Newer
        </button>
        <button
          type="button"
          disabled={data.nextCursor === undefined}
          onClick={() => setCursors((c) => [...c, data.nextCursor])}
        >
          Older
        </button>
      </div>

      {published > 0 && (
        <section aria-label="Compare revisions" style={{ marginTop: 20 }}>
          <h2>Compare</h2>
          <div className="row" style={{ alignItems: "end", marginBottom: 10 }}>
            <RevisionSelect
              id="cmp-from"
              label="From"
              value={from}
              options={data.revisions.map((r) => r.number)}
              onChange={(f) => setCompare(f, to)}
            />
            <RevisionSelect
              id="cmp-to"
              label="To"
              value={to}
              options={data.revisions.map((r) => r.number)}
              onChange={(t) => setCompare(from, t)}
            />
            <button type="button" onClick={() => setCompare(to, from)}>
              Swap
            </button>
          </div>
          <h3 style={{ fontSize: 15 }}>Policy</h3>
          <PolicyDiffView clusterId={clusterId} from={from} to={to} />
          <h3 style={{ fontSize: 15, marginTop: 18 }}>nftables on a gateway</h3>
          <RulesetDiffView clusterId={clusterId} from={from} to={to} gateways={data.gateways} />
        </section>
      )}

      {reverting !== null && (
        <RevertDialog
          clusterId={clusterId}
          revision={reverting}
          published={published}
          onClose={() => setReverting(null)}
          onDone={(n) => {
            setDone({ from: reverting, to: n });
            setReverting(null);
            setCursors([undefined]);
            setCompare(published, n);
            void queryClient.invalidateQueries();
          }}
        />
      )}
    </>
  );
}

export default function RevisionsPage() {
  const { clusterId } = useParams<{ clusterId: string }>();
  return (
    <>
      <div className="row" style={{ marginBottom: 12 }}>
        <h1 style={{ margin: 0 }}>Revisions</h1>
        <div className="spacer" />
        <Link href={`/clusters/${clusterId}/history`}>History</Link>
      </div>
      <Suspense fallback={<div className="loading">Loading revisions…</div>}>
        <RevisionsView />
      </Suspense>
    </>
  );
}
