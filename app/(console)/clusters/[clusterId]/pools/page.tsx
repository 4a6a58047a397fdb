"use client";

import { useMutation } from "@tanstack/react-query";
import { useParams } from "next/navigation";
import { type FormEvent, useMemo, useRef, useState } from "react";
import { ConfirmDelete } from "@/app/components/ConfirmDelete";
import { Field, FormAlert, inputProps, saveAlert } from "@/app/components/Field";
import { type GroupedErrors, groupIssues, mergeErrors, serverIssues } from "@/app/components/form-errors";
import { useCanEdit, useClusterEntities, useRefreshAll } from "@/app/components/hooks";
import { joinList, numberField, splitList } from "@/app/components/list-text";
import { Modal } from "@/app/components/Modal";
import { SortHeader, useSortedRows } from "@/app/components/SortHeader";
import { useDraftWarnings, WarningBadges, WarningList, WarningSentences } from "@/app/components/warnings";
import { errorMessage } from "@/app/lib/errors";
import { useTRPC } from "@/app/lib/trpc";
import { type Pool, zPoolFields } from "@/server/policy/model";
import { intervalSize, parseAddressRange } from "@/server/policy/net";

const FIELD_KEYS = ["name", "ispId", "addresses", "portRange", "comment"];
const NO_ERRORS: GroupedErrors = { byField: {}, other: [] };

interface FormState {
  name: string;
  ispId: string;
  addresses: string;
  portFrom: string;
  portTo: string;
  comment: string;
}

function toFields(s: FormState) {
  const from = numberField(s.portFrom, null);
  const to = numberField(s.portTo, null);
  return {
    name: s.name,
    ispId: s.ispId === "" ? undefined : s.ispId,
    addresses: splitList(s.addresses),
    // both empty: every port; one of them empty is left to the schema to name
    portRange: from === null && to === null ? null : { from: from ?? undefined, to: to ?? undefined },
    comment: s.comment,
  };
}

/** Addresses a pool holds, counting each once per item as the compiler expands them. */
function poolSize(pool: Pool): number {
  let n = 0n;
  for (const a of pool.addresses) {
    const r = parseAddressRange(a);
    if (r.ok) n += intervalSize(r.value);
  }
  return Number(n);
}

function PoolForm({
  clusterId,
  editing,
  onClose,
}: {
  clusterId: string;
  editing: { entity: Pool; version: number } | null;
  onClose: () => void;
}) {
  const trpc = useTRPC();
  const refresh = useRefreshAll();
  const { isps } = useClusterEntities(clusterId);
  const [s, setS] = useState<FormState>(() => ({
    name: editing?.entity.name ?? "",
    ispId: editing?.entity.ispId ?? "",
    addresses: joinList(editing?.entity.addresses ?? []),
    portFrom: editing?.entity.portRange ? String(editing.entity.portRange.from) : "",
    portTo: editing?.entity.portRange ? String(editing.entity.portRange.to) : "",
    comment: editing?.entity.comment ?? "",
  }));
  const [tried, setTried] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  const done = {
    onSuccess: async () => {
      await refresh();
      onClose();
    },
  };
  const create = useMutation(trpc.pool.create.mutationOptions(done));
  const update = useMutation(trpc.pool.update.mutationOptions(done));
  const mutation = editing ? update : create;
  const checked = useMemo(() => zPoolFields.safeParse(toFields(s)), [s]);
  const clientErrors = tried && !checked.success ? groupIssues("pool", checked.error.issues, FIELD_KEYS) : NO_ERRORS;
  const fromServer = groupIssues("pool", serverIssues(mutation.error), FIELD_KEYS, true);
  const errors = mergeErrors(clientErrors, fromServer);
  const alert = saveAlert(
    mutation.error,
    Object.keys(fromServer.byField).length,
    fromServer.other.length,
    errorMessage(mutation.error),
  );
  const e = (k: string) => errors.byField[k];
  const set = <K extends keyof FormState>(k: K, v: FormState[K]) => setS((old) => ({ ...old, [k]: v }));

  function submit(ev: FormEvent) {
    ev.preventDefault();
    setTried(true);
    mutation.reset();
    if (!checked.success) {
      requestAnimationFrame(() => formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus());
      return;
    }
    // what the schema accepted, with its defaults and trimming: the same the server will store
    const fields = checked.data;
    if (editing) update.mutate({ clusterId, id: editing.entity.id, version: editing.version, fields });
    else create.mutate({ clusterId, fields });
  }

  return (
    <Modal title={editing ? `Edit pool ${editing.entity.name}` : "New pool"} onClose={onClose} wide>
      <form ref={formRef} onSubmit={submit} aria-label={editing ? "Edit pool" : "New pool"} noValidate>
        <div className="dialog-body">
          <FormAlert messages={alert} />
          {errors.other.length > 0 && !mutation.error && <FormAlert messages={errors.other} />}
          <div className="form-grid">
            <Field id="pool-name" label="Name" errors={e("name")}>
              <input
                {...inputProps("pool-name", e("name"))}
                value={s.name}
                onChange={(x) => set("name", x.target.value)}
                data-autofocus
              />
            </Field>
            <Field id="pool-isp" label="ISP" hint="(whose uplink routes these addresses back)" errors={e("ispId")}>
              <select
                {...inputProps("pool-isp", e("ispId"))}
                value={s.ispId}
                onChange={(x) => set("ispId", x.target.value)}
              >
                <option value="">Choose the ISP…</option>
                {(isps.data ?? []).map((i) => (
                  <option key={i.entity.id} value={i.entity.id}>
                    {i.entity.name}
                  </option>
                ))}
              </select>
            </Field>
            <Field
              id="pool-addresses"
              label="Addresses"
              hint="(addresses, ranges a.b.c.d-a.b.c.e or networks a.b.c.d/len; comma separated)"
              errors={e("addresses")}
              className="span-2"
            >
              <input
                {...inputProps("pool-addresses", e("addresses"))}
                className="mono"
                value={s.addresses}
                onChange={(x) => set("addresses", x.target.value)}
              />
            </Field>
            <Field id="pool-port-from" label="First port" hint="(empty: all ports)" errors={e("portRange")}>
              <input
                {...inputProps("pool-port-from", e("portRange"))}
                inputMode="numeric"
                value={s.portFrom}
                onChange={(x) => set("portFrom", x.target.value)}
              />
            </Field>
            <Field id="pool-port-to" label="Last port" hint="(empty: all ports)">
              <input
                id="pool-port-to"
                inputMode="numeric"
                aria-invalid={Boolean(e("portRange"))}
                value={s.portTo}
                onChange={(x) => set("portTo", x.target.value)}
              />
            </Field>
            <Field id="pool-comment" label="Comment" errors={e("comment")} className="span-2">
              <input
                {...inputProps("pool-comment", e("comment"))}
                value={s.comment}
                onChange={(x) => set("comment", x.target.value)}
              />
            </Field>
          </div>
        </div>
        <div className="dialog-actions">
          <span className="muted small" style={{ marginRight: "auto" }}>
            <kbd>Enter</kbd> saves, <kbd>Esc</kbd> cancels
          </span>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button className="primary" type="submit" disabled={mutation.isPending}>
            {mutation.isPending ? "Saving…" : editing ? "Save pool" : "Create pool"}
          </button>
        </div>
      </form>
    </Modal>
  );
}

type SortKey = "name" | "isp" | "size" | "ports";

export default function PoolsPage() {
  const { clusterId } = useParams<{ clusterId: string }>();
  const canEdit = useCanEdit();
  const { isps, pools, names } = useClusterEntities(clusterId);
  const warnings = useDraftWarnings(clusterId);
  const [search, setSearch] = useState("");
  const [isp, setIsp] = useState("");
  const [editing, setEditing] = useState<{ entity: Pool; version: number } | null | "new">(null);
  const [deleting, setDeleting] = useState<{ entity: Pool; version: number } | null>(null);
  const rows = pools.data ?? [];
  const { sorted, sort, setSort } = useSortedRows<(typeof rows)[number], SortKey>(
    rows,
    "name",
    (r, k) =>
      k === "name"
        ? r.entity.name
        : k === "isp"
          ? (names.get(r.entity.ispId) ?? "")
          : k === "size"
            ? poolSize(r.entity)
            : (r.entity.portRange?.from ?? 0),
    (r) => [r.entity.name, names.get(r.entity.ispId) ?? "", r.entity.comment, ...r.entity.addresses].join(" "),
    search,
    (r) => isp === "" || r.entity.ispId === isp,
  );

  return (
    <>
      <div className="page-head">
        <h1>Pools</h1>
        <span className="muted">{rows.length > 0 && `${rows.length} pool${rows.length === 1 ? "" : "s"}`}</span>
        <div className="spacer" />
        {canEdit && (
          <button
            className="primary"
            type="button"
            onClick={() => setEditing("new")}
            disabled={(isps.data?.length ?? 0) === 0}
            title={(isps.data?.length ?? 0) === 0 ? "Add an ISP first: every pool belongs to one" : undefined}
          >
            New pool
          </button>
        )}
      </div>
      <WarningList warnings={warnings.all.filter((w) => w.entity === "pool")} label="Pool warnings" />
      <div className="toolbar">
        <div className="control">
          <label htmlFor="pool-search">Search</label>
          <input
            id="pool-search"
            type="search"
            placeholder="name, address, comment"
            value={search}
            onChange={(x) => setSearch(x.target.value)}
          />
        </div>
        <div className="control">
          <label htmlFor="pool-isp-filter">ISP</label>
          <select id="pool-isp-filter" value={isp} onChange={(x) => setIsp(x.target.value)}>
            <option value="">any</option>
            {(isps.data ?? []).map((i) => (
              <option key={i.entity.id} value={i.entity.id}>
                {i.entity.name}
              </option>
            ))}
          </select>
        </div>
      </div>
      {pools.isPending && <div className="loading">Loading pools…</div>}
      {pools.error && <div className="banner error">{errorMessage(pools.error)}</div>}
      {pools.data && rows.length === 0 && (
        <div className="card empty">
          No pools yet. {canEdit ? "A pool holds the SNAT addresses an ISP routes back to the gateways." : ""}
        </div>
      )}
      {rows.length > 0 && sorted.length === 0 && <div className="card empty">No pool matches.</div>}
      {sorted.length > 0 && (
        <table className="data" aria-label="Pools">
          <thead>
            <tr>
              <SortHeader label="Name" column="name" sort={sort} onSort={setSort} />
              <SortHeader label="ISP" column="isp" sort={sort} onSort={setSort} />
              <th>Addresses</th>
              <SortHeader label="Size" column="size" sort={sort} onSort={setSort} className="num" />
              <SortHeader label="Ports" column="ports" sort={sort} onSort={setSort} />
              <th>
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {sorted.map(({ entity: pool, version }) => {
              const w = warnings.byId.get(pool.id);
              return (
                <tr key={pool.id}>
                  <td>
                    <strong>{pool.name}</strong> <WarningBadges warnings={w} />
                    {pool.comment && <div className="muted small">{pool.comment}</div>}
                    <WarningSentences warnings={w} />
                  </td>
                  <td>{names.get(pool.ispId) ?? pool.ispId}</td>
                  <td className="mono">{pool.addresses.join(", ")}</td>
                  <td className="num">{poolSize(pool).toLocaleString("en-US")}</td>
                  <td>
                    {pool.portRange ? (
                      `${pool.portRange.from}-${pool.portRange.to}`
                    ) : (
                      <span className="muted">all</span>
                    )}
                  </td>
                  <td style={{ whiteSpace: "nowrap" }}>
                    {canEdit && (
                      <>
                        <button
                          type="button"
                          onClick={() => setEditing({ entity: pool, version })}
                          aria-label={`Edit pool ${pool.name}`}
                        >
                          Edit
                        </button>{" "}
                        <button
                          type="button"
                          className="danger"
                          onClick={() => setDeleting({ entity: pool, version })}
                          aria-label={`Delete pool ${pool.name}`}
                        >
                          Delete
                        </button>
                      </>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {editing !== null && (
        <PoolForm clusterId={clusterId} editing={editing === "new" ? null : editing} onClose={() => setEditing(null)} />
      )}
      {deleting && (
        <ConfirmDelete
          kind="pool"
          clusterId={clusterId}
          id={deleting.entity.id}
          version={deleting.version}
          title={`pool "${deleting.entity.name}"`}
          onClose={() => setDeleting(null)}
        />
      )}
    </>
  );
}
