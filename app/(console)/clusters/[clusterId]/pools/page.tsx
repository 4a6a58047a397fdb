"use client";

import { useParams } from "next/navigation";
import { useState } from "react";
import { EntityFormDialog, type EntityFormProps, entityForm, useEntityForm } from "@/app/components/entity-form";
import { EntityTable, NameCell, TableStatus, useRowDialogs } from "@/app/components/entity-table";
import type { VersionedRow } from "@/app/components/entity-kinds";
import { Field } from "@/app/components/field";
import { useCanEdit, useClusterEntities } from "@/app/components/hooks";
import { joinList, numberField, splitList } from "@/app/components/list-text";
import { countOf, NewButton, PageHead } from "@/app/components/page-head";
import { SortHeader, useSortedRows } from "@/app/components/sort-header";
import { FilterSelect, NameOptions, SearchControl } from "@/app/components/toolbar";
import { useDraftWarnings, WarningList } from "@/app/components/warnings";
import { POOL_MODE_LABELS, POOL_MODES, type Pool, type PoolMode } from "@/core/policy/model";
import { intervalSize, parseAddressRange } from "@/core/address";
import { PoolSlices } from "./pool-slices";
import { PoolUsageSection, UsageCell, usePoolUsage } from "./pool-usage";

interface FormState {
  name: string;
  ispId: string;
  mode: PoolMode;
  addresses: string;
  portFrom: string;
  portTo: string;
  comment: string;
}

function initialState(pool: Pool | null): FormState {
  return {
    name: pool?.name ?? "",
    ispId: pool?.ispId ?? "",
    mode: pool?.mode ?? "routed",
    addresses: joinList(pool?.addresses ?? []),
    portFrom: pool?.portRange ? String(pool.portRange.from) : "",
    portTo: pool?.portRange ? String(pool.portRange.to) : "",
    comment: pool?.comment ?? "",
  };
}

function toFields(s: FormState) {
  const from = numberField(s.portFrom, null);
  const to = numberField(s.portTo, null);
  return {
    name: s.name,
    ispId: s.ispId === "" ? undefined : s.ispId,
    mode: s.mode,
    // an interface-address pool has no addresses of its own: the field is not shown for it
    addresses: s.mode === "interface" ? [] : splitList(s.addresses),
    // both empty: every port; one of them empty is left to the schema to name
    portRange: from === null && to === null ? null : { from: from ?? undefined, to: to ?? undefined },
    comment: s.comment,
  };
}

const poolForm = entityForm({
  kind: "pool",
  fieldKeys: ["name", "ispId", "mode", "addresses", "portRange", "comment"],
  initial: initialState,
  toFields,
});

/** Addresses a pool holds, counting each once per item as the compiler expands them. */
function poolSize(pool: Pool): number {
  let n = 0n;
  for (const a of pool.addresses) {
    const r = parseAddressRange(a);
    if (r.ok) n += intervalSize(r.value);
  }
  return Number(n);
}

function PoolForm({ clusterId, editing, onClose }: EntityFormProps<Pool>) {
  const { isps } = useClusterEntities(clusterId);
  const form = useEntityForm(poolForm, { clusterId, editing, onClose });
  const e = form.errorsOf;

  return (
    <EntityFormDialog form={form} title={editing ? `Edit pool ${editing.entity.name}` : "New pool"}>
      <div className="form-grid">
        <Field id="pool-name" label="Name" errors={e("name")}>
          <input {...form.bind("name", "pool-name")} data-autofocus />
        </Field>
        <Field id="pool-isp" label="ISP" hint="(whose uplink routes these addresses back)" errors={e("ispId")}>
          <select {...form.bind("ispId", "pool-isp")}>
            <option value="">Choose the ISP…</option>
            <NameOptions items={isps.data} />
          </select>
        </Field>
        <Field
          id="pool-mode"
          label="Mode"
          hint="(routed: the ISP routes the addresses to the gateway; on-link: in the ISP link's subnet, answered by ARP; interface address: whatever address the ISP's interface has now, as MASQUERADE)"
          errors={e("mode")}
          className="span-2"
        >
          <select {...form.bind("mode", "pool-mode")}>
            {POOL_MODES.map((m) => (
              <option key={m} value={m}>
                {POOL_MODE_LABELS[m]}
              </option>
            ))}
          </select>
        </Field>
        {form.state.mode === "interface" ? (
          <p className="muted small span-2" data-testid="pool-interface-note">
            Connections get the ISP interface's current address (DHCP and PPPoE changes included). Each gateway uses its
            own address on the link, so no slices are shared out; in a high-availability pair, connections NATed to a
            gateway's address do not survive a takeover: the new master's clients reconnect with its own.
          </p>
        ) : (
          <Field
            id="pool-addresses"
            label="Addresses"
            hint="(addresses, ranges a.b.c.d-a.b.c.e or a.b.c.d-e, networks a.b.c.d/len; separated by commas or spaces)"
            errors={e("addresses")}
            className="span-2"
          >
            <input {...form.bind("addresses", "pool-addresses")} className="mono" />
          </Field>
        )}
        <Field id="pool-port-from" label="First port" hint="(empty: all ports)" errors={e("portRange")}>
          <input {...form.bind("portFrom", "pool-port-from", "portRange")} inputMode="numeric" />
        </Field>
        <Field id="pool-port-to" label="Last port" hint="(empty: all ports)">
          {/* one message for the range, under the first port: this one is only marked */}
          <input
            id="pool-port-to"
            inputMode="numeric"
            aria-invalid={Boolean(e("portRange"))}
            value={form.state.portTo}
            onChange={(x) => form.set("portTo", x.target.value)}
          />
        </Field>
        <Field id="pool-comment" label="Comment" errors={e("comment")} className="span-2">
          <input {...form.bind("comment", "pool-comment")} />
        </Field>
      </div>
    </EntityFormDialog>
  );
}

type SortKey = "name" | "isp" | "mode" | "size" | "ports";

export default function PoolsPage() {
  const { clusterId } = useParams<{ clusterId: string }>();
  const canEdit = useCanEdit();
  const { isps, pools, names } = useClusterEntities(clusterId);
  const warnings = useDraftWarnings(clusterId);
  const [search, setSearch] = useState("");
  const [isp, setIsp] = useState("");
  const dialogs = useRowDialogs<VersionedRow<Pool>>();
  const usage = usePoolUsage(clusterId);
  const usageOf = new Map((usage.data?.pools ?? []).map((u) => [u.poolId, u]));
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
  const noIsps = (isps.data?.length ?? 0) === 0;

  return (
    <>
      <PageHead title="Pools" note={countOf(rows.length, "pool")}>
        {canEdit && (
          <NewButton
            kind="pool"
            onClick={dialogs.openNew}
            disabled={noIsps}
            title={noIsps ? "Add an ISP first: every pool belongs to one" : undefined}
          />
        )}
      </PageHead>
      <WarningList warnings={warnings.all.filter((w) => w.entity === "pool")} label="Pool warnings" />
      <div className="toolbar">
        <SearchControl id="pool-search" placeholder="name, address, comment" value={search} onChange={setSearch} />
        <FilterSelect id="pool-isp-filter" label="ISP" value={isp} onChange={setIsp}>
          <option value="">any</option>
          <NameOptions items={isps.data} />
        </FilterSelect>
      </div>
      <TableStatus
        list={pools}
        shown={sorted.length}
        loading="Loading pools…"
        empty={
          <>
            No pools yet.{" "}
            {canEdit
              ? "A pool holds the SNAT addresses an ISP routes back to the gateways (routed) or finds on its link by ARP (on-link)."
              : ""}
          </>
        }
        noMatch="No pool matches."
      />
      <EntityTable
        kind="pool"
        label="Pools"
        clusterId={clusterId}
        rows={sorted}
        canEdit={canEdit}
        dialogs={dialogs}
        header={
          <>
            <SortHeader label="Name" column="name" sort={sort} onSort={setSort} />
            <SortHeader label="ISP" column="isp" sort={sort} onSort={setSort} />
            <SortHeader label="Mode" column="mode" sort={sort} onSort={setSort} />
            <th>Addresses</th>
            <SortHeader label="Size" column="size" sort={sort} onSort={setSort} className="num" />
            <SortHeader label="Ports" column="ports" sort={sort} onSort={setSort} />
            <th>Port usage</th>
          </>
        }
        cells={(pool) => (
          <>
            <NameCell entity={pool} warnings={warnings.byId.get(pool.id)} />
            <td>{names.get(pool.ispId) ?? pool.ispId}</td>
            <td data-testid="pool-mode">{POOL_MODE_LABELS[pool.mode]}</td>
            <td className="mono">
              {pool.mode === "interface" ? (
                <span className="muted">the interface's current address</span>
              ) : (
                pool.addresses.join(", ")
              )}
            </td>
            <td className="num">{poolSize(pool).toLocaleString("en-US")}</td>
            <td>
              {pool.portRange ? `${pool.portRange.from}-${pool.portRange.to}` : <span className="muted">all</span>}
            </td>
            <td data-testid="pool-usage">
              <UsageCell usage={usageOf.get(pool.id)} />
            </td>
          </>
        )}
      />
      <PoolUsageSection clusterId={clusterId} />
      <PoolSlices clusterId={clusterId} />
      {dialogs.form && <PoolForm clusterId={clusterId} editing={dialogs.form.row} onClose={dialogs.closeForm} />}
    </>
  );
}
