"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import { CopyButton } from "../../components/copy-button";
import { type FormEvent, useState } from "react";
import { errorMessage } from "@/app/lib/errors";
import { useTRPC } from "@/app/lib/trpc";

const when = (d: Date | string | null) => (d ? new Date(d).toLocaleString() : "never");

/** API tokens for scripts and the gatehouse command line: created with a role and an expiry, shown once. */
export function TokensSection() {
  const trpc = useTRPC();
  const tokens = useQuery(trpc.token.list.queryOptions());
  const [name, setName] = useState("");
  const [role, setRole] = useState<"viewer" | "operator" | "admin">("operator");
  const [days, setDays] = useState(90);
  const [shown, setShown] = useState<{ name: string; token: string } | null>(null);
  const create = useMutation(
    trpc.token.create.mutationOptions({
      onSuccess: async (t) => {
        setShown({ name: t.name, token: t.token });
        setName("");
        await tokens.refetch();
      },
    }),
  );
  const revoke = useMutation(trpc.token.revoke.mutationOptions({ onSuccess: () => tokens.refetch() }));

  function submit(e: FormEvent) {
    e.preventDefault();
    setShown(null);
    create.mutate({ name: name.trim(), role, expiresInDays: days });
  }

  return (
    <section aria-label="API tokens" style={{ marginTop: 24 }}>
      <h2>API tokens</h2>
      <p className="muted">
        For scripts and the <code>gatehouse</code> command line: send <code>Authorization: Bearer TOKEN</code>. Every
        use is recorded in the audit log under the token&apos;s name. See <a href="/api-reference">the API reference</a>
        .
      </p>
      {shown && (
        <div className="banner ok" role="status">
          Token {shown.name}: <code className="mono">{shown.token}</code> — copy it now, it is not shown again.{" "}
          <CopyButton text={shown.token} label="Copy token" />
        </div>
      )}
      {create.error && (
        <div className="banner error" role="alert">
          {errorMessage(create.error)}
        </div>
      )}
      <form onSubmit={submit} className="row" style={{ gap: 8, marginBottom: 12 }} aria-label="New token">
        <label>
          Name <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={64} />
        </label>
        <label>
          Role{" "}
          <select value={role} onChange={(e) => setRole(e.target.value as typeof role)}>
            <option value="viewer">viewer</option>
            <option value="operator">operator</option>
            <option value="admin">admin</option>
          </select>
        </label>
        <label>
          Expires in (days){" "}
          <input type="number" min={1} max={730} value={days} onChange={(e) => setDays(Number(e.target.value))} />
        </label>
        <button type="submit" className="button primary" disabled={create.isPending}>
          Create token
        </button>
      </form>
      <table className="data" aria-label="Tokens">
        <thead>
          <tr>
            <th>Name</th>
            <th>Role</th>
            <th>State</th>
            <th>Expires</th>
            <th>Last used</th>
            <th>Created by</th>
            <th>
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {(tokens.data ?? []).map((t) => (
            <tr key={t.id}>
              <td>{t.name}</td>
              <td>{t.role}</td>
              <td>{t.state}</td>
              <td>{when(t.expiresAt)}</td>
              <td>{when(t.lastUsedAt)}</td>
              <td>{t.createdByName}</td>
              <td>
                {t.state === "active" && (
                  <button type="button" className="danger" onClick={() => revoke.mutate({ id: t.id })}>
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
