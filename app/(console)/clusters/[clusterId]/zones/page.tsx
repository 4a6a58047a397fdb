"use client";

import { useMutation } from "@tanstack/react-query";
import { useParams } from "next/navigation";
import { type FormEvent, useMemo, useRef, useState } from "react";
import { ConfirmDelete } from "@/app/components/ConfirmDelete";
import { Field, FormAlert, inputProps, saveAlert } from "@/app/components/Field";
import { type GroupedErrors, groupIssues, mergeErrors, serverIssues } from "@/app/components/form-errors";
import { useCanEdit, useClusterEntities, useRefreshAll } from "@/app/components/hooks";
import { joinList, splitList } from "@/app/components/list-text";
import { Modal } from "@/app/components/Modal";
import { SortHeader, useSortedRows } from "@/app/components/SortHeader";
import { useDraftWarnings, WarningBadges, WarningList, WarningSentences } from "@/app/components/warnings";
import { errorMessage } from "@/app/lib/errors";
import { useTRPC } from "@/app/lib/trpc";
import { type Zone, zZoneFields } from "@/server/policy/model";
import { parseCidr } from "@/server/policy/net";

const FIELD_KEYS = ["name", "networks", "comment"];
const NO_ERRORS: GroupedErrors = { byField: {}, other: [] };

interface FormState {
  name: string;
  networks: string;
  comment: string;
}

const toFields = (s: FormState) => ({ name: s.name, networks: splitList(s.networks), comment: s.comment });

function addressCount(zone: Zone): number {
  return zone.networks.reduce((n, t) => {
    const r = parseCidr(t);
    return r.ok ? n + 2 ** (32 - r.value.prefix) : n;
  }, 0);
}

function ZoneForm({
  clusterId,
  editing,
  onClose,
}: {
  clusterId: string;
  editing: { entity: Zone; version: number } | null;
  onClose: () => void;
}) {
  const trpc = useTRPC();
  const refresh = useRefreshAll();
  const [s, setS] = useState<FormState>(() => ({
    name: editing?.entity.name ?? "",
    networks: joinList(editing?.entity.networks ?? []),
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
  const create = useMutation(trpc.zone.create.mutationOptions(done));
  const update = useMutation(trpc.zone.update.mutationOptions(done));
  const mutation = editing ? update : create;
  const checked = useMemo(() => zZoneFields.safeParse(toFields(s)), [s]);
  const clientErrors = tried && !checked.success ? groupIssues("zone", checked.error.issues, FIELD_KEYS) : NO_ERRORS;
  const fromServer = groupIssues("zone", serverIssues(mutation.error), FIELD_KEYS, true);
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
    <Modal title={editing ? `Edit zone ${editing.entity.name}` : "New zone"} onClose={onClose} wide>
      <form ref={formRef} onSubmit={submit} aria-label={editing ? "Edit zone" : "New zone"} noValidate>
        <div className="dialog-body">
          <FormAlert messages={alert} />
          {errors.other.length > 0 && !mutation.error && <FormAlert messages={errors.other} />}
          <Field id="zone-name" label="Name" errors={e("name")}>
            <input
              {...inputProps("zone-name", e("name"))}
              value={s.name}
              onChange={(x) => set("name", x.target.value)}
              data-autofocus
            />
          </Field>
          <Field
            id="zone-networks"
            label="Source networks"
            hint="(a.b.c.d/len, comma separated; in the order you want them listed)"
            errors={e("networks")}
          >
            <input
              {...inputProps("zone-networks", e("networks"))}
              className="mono"
              value={s.networks}
              onChange={(x) => set("networks", x.target.value)}
            />
          </Field>
          <Field id="zone-comment" label="Comment" errors={e("comment")}>
            <input
              {...inputProps("zone-comment", e("comment"))}
              value={s.comment}
              onChange={(x) => set("comment", x.target.value)}
            />
          </Field>
        </div>
        <div className="dialog-actions">
          <span className="muted small" style={{ marginRight: "auto" }}>
            <kbd>Enter</kbd> saves, <kbd>Esc</kbd> cancels
          </span>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button className="primary" type="submit" disabled={mutation.isPending}>
            {mutation.isPending ? "Saving…" : editing ? "Save zone" : "Create zone"}
          </button>
        </div>
      </form>
    </Modal>
  );
}

type SortKey = "name" | "networks" | "size";

export default function ZonesPage() {
  const { clusterId } = useParams<{ clusterId: string }>();
  const canEdit = useCanEdit();
  const { zones } = useClusterEntities(clusterId);
  const warnings = useDraftWarnings(clusterId);
  const [search, setSearch] = useState("");
  const [editing, setEditing] = useState<{ entity: Zone; version: number } | null | "new">(null);
  const [deleting, setDeleting] = useState<{ entity: Zone; version: number } | null>(null);
  const rows = zones.data ?? [];
  const { sorted, sort, setSort } = useSortedRows<(typeof rows)[number], SortKey>(
    rows,
    "name",
    (r, k) => (k === "name" ? r.entity.name : k === "networks" ? r.entity.networks.length : addressCount(r.entity)),
    (r) => [r.entity.name, r.entity.comment, ...r.entity.networks].join(" "),
    search,
  );

  return (
    <>
      <div className="page-head">
        <h1>Zones</h1>
        <span className="muted">{rows.length > 0 && `${rows.length} zone${rows.length === 1 ? "" : "s"}`}</span>
        <div className="spacer" />
        {canEdit && (
          <button className="primary" type="button" onClick={() => setEditing("new")}>
            New zone
          </button>
        )}
      </div>
      <WarningList warnings={warnings.all.filter((w) => w.entity === "zone")} label="Zone warnings" />
      <div className="toolbar">
        <div className="control">
          <label htmlFor="zone-search">Search</label>
          <input
            id="zone-search"
            type="search"
            placeholder="name, network, comment"
            value={search}
            onChange={(x) => setSearch(x.target.value)}
          />
        </div>
      </div>
      {zones.isPending && <div className="loading">Loading zones…</div>}
      {zones.error && <div className="banner error">{errorMessage(zones.error)}</div>}
      {zones.data && rows.length === 0 && (
        <div className="card empty">
          No zones yet. {canEdit ? "A zone names a set of source networks that rules can use as their source." : ""}
        </div>
      )}
      {rows.length > 0 && sorted.length === 0 && <div className="card empty">No zone matches.</div>}
      {sorted.length > 0 && (
        <table className="data" aria-label="Zones">
          <thead>
            <tr>
              <SortHeader label="Name" column="name" sort={sort} onSort={setSort} />
              <SortHeader label="Networks" column="networks" sort={sort} onSort={setSort} />
              <SortHeader label="Addresses" column="size" sort={sort} onSort={setSort} className="num" />
              <th>
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {sorted.map(({ entity: zone, version }) => {
              const w = warnings.byId.get(zone.id);
              return (
                <tr key={zone.id}>
                  <td>
                    <strong>{zone.name}</strong> <WarningBadges warnings={w} />
                    {zone.comment && <div className="muted small">{zone.comment}</div>}
                    <WarningSentences warnings={w} />
                  </td>
                  <td className="mono">{zone.networks.join(", ")}</td>
                  <td className="num">{addressCount(zone).toLocaleString("en-US")}</td>
                  <td style={{ whiteSpace: "nowrap" }}>
                    {canEdit && (
                      <>
                        <button
                          type="button"
                          onClick={() => setEditing({ entity: zone, version })}
                          aria-label={`Edit zone ${zone.name}`}
                        >
                          Edit
                        </button>{" "}
                        <button
                          type="button"
                          className="danger"
                          onClick={() => setDeleting({ entity: zone, version })}
                          aria-label={`Delete zone ${zone.name}`}
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
        <ZoneForm clusterId={clusterId} editing={editing === "new" ? null : editing} onClose={() => setEditing(null)} />
      )}
      {deleting && (
        <ConfirmDelete
          kind="zone"
          clusterId={clusterId}
          id={deleting.entity.id}
          version={deleting.version}
          title={`zone "${deleting.entity.name}"`}
          onClose={() => setDeleting(null)}
        />
      )}
    </>
  );
}
