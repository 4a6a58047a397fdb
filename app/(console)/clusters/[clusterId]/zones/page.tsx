"use client";

import { useParams } from "next/navigation";
import { useState } from "react";
import { EntityFormDialog, type EntityFormProps, entityForm, useEntityForm } from "@/app/components/entity-form";
import { EntityTable, NameCell, TableStatus, useRowDialogs } from "@/app/components/entity-table";
import type { VersionedRow } from "@/app/components/entity-kinds";
import { Field } from "@/app/components/field";
import { useCanEdit, useClusterEntities } from "@/app/components/hooks";
import { joinList, splitList } from "@/app/components/list-text";
import { countOf, NewButton, PageHead } from "@/app/components/page-head";
import { SortHeader, useSortedRows } from "@/app/components/sort-header";
import { SearchControl } from "@/app/components/toolbar";
import { useDraftWarnings, WarningList } from "@/app/components/warnings";
import type { Zone } from "@/core/policy/model";
import { parseCidr } from "@/core/address";

const zoneForm = entityForm({
  kind: "zone",
  fieldKeys: ["name", "networks", "comment"],
  initial: (zone: Zone | null) => ({
    name: zone?.name ?? "",
    networks: joinList(zone?.networks ?? []),
    comment: zone?.comment ?? "",
  }),
  toFields: (s) => ({ name: s.name, networks: splitList(s.networks), comment: s.comment }),
});

function addressCount(zone: Zone): number {
  return zone.networks.reduce((n, t) => {
    const r = parseCidr(t);
    return r.ok ? n + 2 ** (32 - r.value.prefix) : n;
  }, 0);
}

function ZoneForm({ clusterId, editing, onClose }: EntityFormProps<Zone>) {
  const form = useEntityForm(zoneForm, { clusterId, editing, onClose });
  const e = form.errorsOf;

  return (
    <EntityFormDialog form={form} title={editing ? `Edit zone ${editing.entity.name}` : "New zone"}>
      <Field id="zone-name" label="Name" errors={e("name")}>
        <input {...form.bind("name", "zone-name")} data-autofocus />
      </Field>
      <Field
        id="zone-networks"
        label="Source networks"
        hint="(a.b.c.d/len, separated by commas or spaces; their order does not matter)"
        errors={e("networks")}
      >
        <input {...form.bind("networks", "zone-networks")} className="mono" />
      </Field>
      <Field id="zone-comment" label="Comment" errors={e("comment")}>
        <input {...form.bind("comment", "zone-comment")} />
      </Field>
    </EntityFormDialog>
  );
}

type SortKey = "name" | "networks" | "size";

export default function ZonesPage() {
  const { clusterId } = useParams<{ clusterId: string }>();
  const canEdit = useCanEdit();
  const { zones } = useClusterEntities(clusterId);
  const warnings = useDraftWarnings(clusterId);
  const [search, setSearch] = useState("");
  const dialogs = useRowDialogs<VersionedRow<Zone>>();
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
      <PageHead title="Zones" note={countOf(rows.length, "zone")}>
        {canEdit && <NewButton kind="zone" onClick={dialogs.openNew} />}
      </PageHead>
      <WarningList warnings={warnings.all.filter((w) => w.entity === "zone")} label="Zone warnings" />
      <div className="toolbar">
        <SearchControl id="zone-search" placeholder="name, network, comment" value={search} onChange={setSearch} />
      </div>
      <TableStatus
        list={zones}
        shown={sorted.length}
        loading="Loading zones…"
        empty={
          <>
            No zones yet. {canEdit ? "A zone names a set of source networks that rules can use as their source." : ""}
          </>
        }
        noMatch="No zone matches."
      />
      <EntityTable
        kind="zone"
        label="Zones"
        clusterId={clusterId}
        rows={sorted}
        canEdit={canEdit}
        dialogs={dialogs}
        header={
          <>
            <SortHeader label="Name" column="name" sort={sort} onSort={setSort} />
            <SortHeader label="Networks" column="networks" sort={sort} onSort={setSort} />
            <SortHeader label="Addresses" column="size" sort={sort} onSort={setSort} className="num" />
          </>
        }
        cells={(zone) => (
          <>
            <NameCell entity={zone} warnings={warnings.byId.get(zone.id)} />
            <td className="mono">{zone.networks.join(", ")}</td>
            <td className="num">{addressCount(zone).toLocaleString("en-US")}</td>
          </>
        )}
      />
      {dialogs.form && <ZoneForm clusterId={clusterId} editing={dialogs.form.row} onClose={dialogs.closeForm} />}
    </>
  );
}
