"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useParams } from "next/navigation";
import { type FormEvent, useState } from "react";
import { Field, FormAlert, inputProps } from "@/app/components/field";
import { useCanEdit, useRefreshAll } from "@/app/components/hooks";
import { Modal } from "@/app/components/modal";
import { errorMessage } from "@/app/lib/errors";
import { useTRPC } from "@/app/lib/trpc";
import "@/app/components/editing.css";
import { DialogActions } from "@/app/components/dialog-actions";

type Kind = "isp" | "pool" | "zone" | "rule" | "settings";
interface FieldText {
  path: string;
  label: string;
  before: string;
  after: string;
}
interface ChangeText {
  kind: Exclude<Kind, "settings">;
  id: string;
  name: string;
  change: "added" | "removed" | "changed";
  fields: FieldText[];
}

const GROUPS = [
  { key: "isps", title: "ISPs" },
  { key: "pools", title: "Pools" },
  { key: "zones", title: "Zones" },
  { key: "rules", title: "Rules" },
] as const;

const BADGE: Record<ChangeText["change"], string> = { added: "ok", removed: "danger", changed: "warn" };
const n = (x: number) => x.toLocaleString("en-US");

function Fields({ change, fields }: { change: ChangeText["change"] | "changed"; fields: FieldText[] }) {
  return (
    <table>
      <tbody>
        {fields.map((f) => (
          <tr key={f.path}>
            <td className="field">{f.label}</td>
            <td>
              {change === "added" ? (
                <span className="val-after">{f.after}</span>
              ) : change === "removed" ? (
                <span className="val-before">{f.before}</span>
              ) : (
                <>
                  <span className="val-before">{f.before}</span>
                  <span className="arrow">
                    → <span className="sr-only">becomes</span>
                  </span>
                  <span className="val-after">{f.after}</span>
                </>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export default function ChangesPage() {
  const { clusterId } = useParams<{ clusterId: string }>();
  const trpc = useTRPC();
  const refresh = useRefreshAll();
  const canEdit = useCanEdit();
  const [limit, setLimit] = useState(200);
  const changes = useQuery(trpc.draft.changes.queryOptions({ clusterId, limit }));
  const revisions = useQuery(trpc.revision.list.queryOptions({ clusterId, limit: 10 }));
  const [message, setMessage] = useState("");
  const [messageError, setMessageError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [confirmAll, setConfirmAll] = useState(false);

  const publish = useMutation(
    trpc.draft.publish.mutationOptions({
      onSuccess: async (r) => {
        setMessage("");
        setNotice(`Published revision ${r.number}. Gateways pick it up now.`);
        await refresh();
      },
    }),
  );
  const discardOne = useMutation(
    trpc.draft.discardChange.mutationOptions({
      onSuccess: async (r) => {
        setNotice(`Discarded ${r.discarded}.`);
        await refresh();
      },
    }),
  );
  const discardAll = useMutation(
    trpc.draft.discard.mutationOptions({
      onSuccess: async () => {
        setConfirmAll(false);
        setNotice("Discarded every draft change: the draft is the published revision again.");
        await refresh();
      },
    }),
  );

  const data = changes.data;
  function submit(e: FormEvent) {
    e.preventDefault();
    setNotice(null);
    const m = message.trim();
    if (m === "") {
      setMessageError("Message is required: say what changed and why");
      return;
    }
    if (m.length > 500) {
      setMessageError("Message must be at most 500 characters");
      return;
    }
    setMessageError(null);
    if (data) publish.mutate({ clusterId, message: m, draftVersion: data.draftVersion });
  }
  const discard = (kind: Kind, id: string | null) => {
    setNotice(null);
    if (data) discardOne.mutate({ clusterId, kind, id, draftVersion: data.draftVersion });
  };
  const discardError = (kind: Kind, id: string | null) =>
    discardOne.error && discardOne.variables?.kind === kind && discardOne.variables.id === id ? (
      <div className="banner error" role="alert" style={{ marginTop: 6, marginBottom: 0 }}>
        {errorMessage(discardOne.error)}
      </div>
    ) : null;
  const discardButton = (kind: Kind, id: string | null, what: string) =>
    canEdit && (
      <button
        type="button"
        onClick={() => discard(kind, id)}
        disabled={discardOne.isPending}
        aria-label={`Discard the change to ${what}`}
      >
        Discard
      </button>
    );
  const hidden =
    data && (Object.keys(data.counts) as Array<keyof typeof data.counts>).some((k) => data.counts[k] > data[k].length);

  return (
    <>
      <div className="page-head">
        <h1>Changes</h1>
        <span className="muted">
          the draft against{" "}
          {data?.publishedRevision ? `revision ${data.publishedRevision}` : "the empty cluster (nothing published yet)"}
        </span>
      </div>
      {notice && (
        <div className="banner ok" role="status">
          {notice}
        </div>
      )}
      {changes.isPending && <div className="loading">Comparing the draft with the published revision…</div>}
      {changes.error && <div className="banner error">{errorMessage(changes.error)}</div>}
      {data && !data.dirty && (
        <div className="card empty">
          No unpublished changes: the draft is the same as{" "}
          {data.publishedRevision ? `revision ${data.publishedRevision}` : "the empty cluster"}.
        </div>
      )}
      {data?.dirty && (
        <>
          <div className="card" style={{ marginBottom: 14 }}>
            <div className="row" style={{ marginBottom: 8 }}>
              <strong>
                {n(data.summary.total)} change{data.summary.total === 1 ? "" : "s"}
              </strong>
              <span className="muted">
                {n(data.summary.added)} added, {n(data.summary.changed)} changed, {n(data.summary.removed)} removed
              </span>
            </div>
            {data.problems.length > 0 && (
              <div className="banner error" role="alert">
                Fix {data.problems.length === 1 ? "this problem" : `these ${data.problems.length} problems`} before
                publishing:
                <ul style={{ margin: "6px 0 0", paddingLeft: 18 }}>
                  {data.problems.slice(0, 20).map((p) => (
                    <li key={p}>{p}</li>
                  ))}
                </ul>
              </div>
            )}
            {canEdit && (
              <form onSubmit={submit} aria-label="Publish" noValidate>
                {publish.error && <FormAlert messages={[errorMessage(publish.error)]} />}
                <Field
                  id="publish-message"
                  label="Message"
                  hint="(required: what changed and why; it is kept with the revision)"
                  errors={messageError ? [messageError] : undefined}
                >
                  <input
                    {...inputProps("publish-message", messageError ? [messageError] : undefined)}
                    value={message}
                    maxLength={500}
                    onChange={(e) => setMessage(e.target.value)}
                  />
                </Field>
                <div className="row">
                  <button className="primary" type="submit" disabled={publish.isPending || data.problems.length > 0}>
                    {publish.isPending ? "Publishing…" : `Publish as revision ${data.publishedRevision + 1}`}
                  </button>
                  <div className="spacer" />
                  <button type="button" className="danger" onClick={() => setConfirmAll(true)}>
                    Discard all changes
                  </button>
                </div>
              </form>
            )}
          </div>

          {data.settings.length > 0 && (
            <section aria-label="Settings changes">
              <h2>Cluster settings</h2>
              <div className="change">
                <div className="change-head">
                  <span className="badge warn">changed</span>
                  <strong>settings</strong>
                  <div className="spacer" />
                  {discardButton("settings", null, "the cluster settings")}
                </div>
                <Fields change="changed" fields={data.settings} />
                {discardError("settings", null)}
              </div>
            </section>
          )}
          {GROUPS.map(({ key, title }) => {
            const list = data[key] as ChangeText[];
            if (list.length === 0) return null;
            return (
              <section key={key} aria-label={`${title} changes`}>
                <h2>
                  {title} <span className="muted small">({n(data.counts[key])})</span>
                </h2>
                {list.map((c) => (
                  <article key={c.id} className="change" aria-label={`${c.change} ${c.name}`}>
                    <div className="change-head">
                      <span className={`badge ${BADGE[c.change]}`}>{c.change}</span>
                      <strong>{c.name}</strong>
                      <div className="spacer" />
                      {discardButton(c.kind, c.id, c.name)}
                    </div>
                    <Fields change={c.change} fields={c.fields} />
                    {discardError(c.kind, c.id)}
                  </article>
                ))}
                {data.counts[key] > list.length && (
                  <p className="muted">
                    {n(data.counts[key] - list.length)} more {title.toLowerCase()} changes are not shown.
                  </p>
                )}
              </section>
            );
          })}
          {data.virtualServices.length > 0 && (
            <section aria-label="Virtual services changes">
              <h2>
                Virtual services <span className="muted small">({n(data.virtualServices.length)})</span>
              </h2>
              {data.virtualServices.map((c) => (
                <article key={c.id} className="change" aria-label={`${c.change} ${c.name}`}>
                  <div className="change-head">
                    <span className={`badge ${BADGE[c.change]}`}>{c.change}</span>
                    <strong>{c.name}</strong>
                  </div>
                  <Fields change={c.change} fields={c.fields} />
                </article>
              ))}
            </section>
          )}
          {hidden && (
            <button type="button" onClick={() => setLimit(20_000)} disabled={changes.isFetching}>
              {changes.isFetching ? "Loading…" : "Show every change"}
            </button>
          )}
        </>
      )}

      <h2>Recent revisions</h2>
      {revisions.data?.length === 0 && <div className="muted">Nothing published yet.</div>}
      {revisions.data && revisions.data.length > 0 && (
        <table className="data" aria-label="Revisions">
          <thead>
            <tr>
              <th className="num">Revision</th>
              <th>Message</th>
              <th>Author</th>
              <th>When</th>
            </tr>
          </thead>
          <tbody>
            {revisions.data.map((r) => (
              <tr key={r.number}>
                <td className="num">{r.number}</td>
                <td>
                  {r.message}
                  {r.revertedFrom !== null && <span className="muted small"> (copy of revision {r.revertedFrom})</span>}
                </td>
                <td>{r.authorName}</td>
                <td>{new Date(r.createdAt).toLocaleString()}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p className="muted small">
        Every publish and discard is in the <Link href="/audit">audit log</Link>.
      </p>

      {confirmAll && data && (
        <Modal title="Discard every draft change?" onClose={() => setConfirmAll(false)}>
          <p>
            The draft goes back to {data.publishedRevision ? `revision ${data.publishedRevision}` : "the empty cluster"}
            : {n(data.summary.total)} {data.summary.total === 1 ? "change is" : "changes are"} lost. Gateways are not
            affected.
          </p>
          {discardAll.error && <FormAlert messages={[errorMessage(discardAll.error)]} />}
          <DialogActions
            tone="danger"
            onCancel={() => setConfirmAll(false)}
            cancelLabel="Keep the changes"
            confirmLabel="Discard all changes"
            pendingLabel="Discarding…"
            pending={discardAll.isPending}
            onConfirm={() => discardAll.mutate({ clusterId, draftVersion: data.draftVersion })}
          />
        </Modal>
      )}
    </>
  );
}
