"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { type FormEvent, useState } from "react";
import { Field, inputProps, withSubject } from "../components/field";
import { errorMessage, fieldErrors } from "../lib/errors";
import { useTRPC } from "../lib/trpc";

function CreateClusterForm({ onDone }: { onDone: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const create = useMutation(
    trpc.cluster.create.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries({ queryKey: trpc.cluster.list.queryKey() });
        onDone();
      },
    }),
  );
  const errors = fieldErrors(create.error);
  function submit(e: FormEvent) {
    e.preventDefault();
    create.mutate({ name, description });
  }
  return (
    <form className="card" onSubmit={submit} aria-label="New cluster" style={{ maxWidth: 520, marginBottom: 16 }}>
      <h2 style={{ marginTop: 0 }}>New cluster</h2>
      {create.error && !errors.name && (
        <div className="banner error" role="alert">
          {errorMessage(create.error)}
        </div>
      )}
      <Field id="cluster-name" label="Name" errors={withSubject("Name", errors.name)}>
        <input
          {...inputProps("cluster-name", withSubject("Name", errors.name))}
          value={name}
          onChange={(e) => setName(e.target.value)}
          autoFocus
        />
      </Field>
      <Field id="cluster-description" label="Description" hint="(optional)">
        <input id="cluster-description" value={description} onChange={(e) => setDescription(e.target.value)} />
      </Field>
      <div className="row">
        <button className="primary" type="submit" disabled={create.isPending}>
          {create.isPending ? "Creating…" : "Create cluster"}
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}

export default function ClustersPage() {
  const trpc = useTRPC();
  const me = useQuery(trpc.auth.me.queryOptions());
  // clusters other people (or scripts) add show up on arrival and while the list is open
  const clusters = useQuery(
    trpc.cluster.list.queryOptions(undefined, { refetchOnMount: "always", refetchInterval: 15_000 }),
  );
  const [creating, setCreating] = useState(false);
  const canEdit = me.data?.role === "operator" || me.data?.role === "admin";

  return (
    <>
      <div className="row" style={{ marginBottom: 12 }}>
        <h1 style={{ margin: 0 }}>Clusters</h1>
        <div className="spacer" />
        {canEdit && !creating && (
          <button className="primary" type="button" onClick={() => setCreating(true)}>
            New cluster
          </button>
        )}
      </div>
      {creating && <CreateClusterForm onDone={() => setCreating(false)} />}
      {clusters.isPending && <div className="loading">Loading clusters…</div>}
      {clusters.error && <div className="banner error">{errorMessage(clusters.error)}</div>}
      {clusters.data?.length === 0 && (
        <div className="card empty">
          No clusters yet.{" "}
          {canEdit ? "Create one to start adding ISPs, pools and rules." : "An operator can create one."}
        </div>
      )}
      {clusters.data && clusters.data.length > 0 && (
        <table className="data" aria-label="Clusters">
          <thead>
            <tr>
              <th>Name</th>
              <th>Description</th>
              <th>Published revision</th>
              <th>ISPs</th>
              <th>Rules</th>
              <th>Gateways</th>
            </tr>
          </thead>
          <tbody>
            {clusters.data.map((c) => (
              <tr key={c.id}>
                <td>
                  <Link href={`/clusters/${c.id}`}>{c.name}</Link>
                </td>
                <td className="muted">{c.description}</td>
                <td>
                  {c.publishedRevision === 0 ? (
                    <span className="muted">never published</span>
                  ) : (
                    `#${c.publishedRevision}`
                  )}
                </td>
                <td>{c.counts.isps}</td>
                <td>{c.counts.rules}</td>
                <td>{c.counts.gateways}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
