"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useParams } from "next/navigation";
import { useState } from "react";
import { DialogActions } from "@/app/components/dialog-actions";
import { TableStatus, useRowDialogs } from "@/app/components/entity-table";
import type { VersionedRow } from "@/app/components/entity-kinds";
import { useCanEdit, useRefreshAll } from "@/app/components/hooks";
import { Modal } from "@/app/components/modal";
import { countOf, PageHead } from "@/app/components/page-head";
import { errorMessage } from "@/app/lib/errors";
import { useTRPC } from "@/app/lib/trpc";
import { type VirtualService, VS_SCHEDULER_LABELS } from "@/core/policy/virtual-service";
import type { GatewayVirtualServices } from "@/server/services/gateways/virtual-service-status";
import {
  formatBytes,
  formatCount,
  healthClass,
  healthSummary,
  type RealServerView,
  realServerAddress,
  serviceAddress,
  serviceView,
} from "./present";
import { ServiceForm } from "./service-form";

type Row = VersionedRow<VirtualService>;

/**
 * A cluster's inbound virtual services (as `ipvsadm -Ln --stats --rate`): each service with its
 * scheduler, persistence, real servers and what the gateways report about them (health, traffic),
 * live over server-sent events (polled when the stream cannot be opened); create, edit, delete, and
 * drain one real server. Edits change the draft: gateways change when it is published.
 */
export default function ServicesPage() {
  const { clusterId } = useParams<{ clusterId: string }>();
  const trpc = useTRPC();
  const canEdit = useCanEdit();
  const list = useQuery(trpc.virtualService.list.queryOptions({ clusterId }));
  const [reported, setReported] = useState<GatewayVirtualServices[] | null>(null);
  const live = useSubscription(
    trpc.virtualService.live.subscriptionOptions({ clusterId }, { onData: (data) => setReported(data) }),
  );
  // without the stream (a proxy that buffers it, say) the page still updates, once a second
  const polled = useQuery(
    trpc.virtualService.status.queryOptions(
      { clusterId },
      { enabled: live.status === "error", refetchInterval: 1_000 },
    ),
  );
  const dialogs = useRowDialogs<Row>();
  const rows = list.data ?? [];
  const gateways = (live.status === "error" ? (polled.data ?? reported) : reported) ?? [];

  return (
    <>
      <PageHead title="Virtual services" note={countOf(rows.length, "service")}>
        {canEdit && (
          <button className="primary" type="button" onClick={dialogs.openNew}>
            New virtual service
          </button>
        )}
      </PageHead>
      <p className="muted small" style={{ marginTop: 0 }}>
        Inbound load balancing: connections to a virtual address are spread over real servers, as with{" "}
        <code>ipvsadm -A</code>/<code>-a</code> or keepalived&apos;s <code>virtual_server</code>. Health and traffic
        come from the gateways&apos; reports,{" "}
        <span aria-live="polite">{live.status === "error" ? "polled every second" : "live"}</span>.
      </p>
      {polled.error && <div className="banner warn">Gateway reports unavailable: {errorMessage(polled.error)}</div>}
      <TableStatus
        list={list}
        shown={rows.length}
        loading="Loading virtual services…"
        empty={
          <>
            No virtual services yet.{" "}
            {canEdit
              ? "A virtual service takes connections to an address and port of the gateways and spreads them over real servers."
              : ""}
          </>
        }
        noMatch=""
      />
      {rows.length > 0 && (
        <table className="data" aria-label="Virtual services">
          <thead>
            <tr>
              <th>Name</th>
              <th>Address</th>
              <th>Scheduler</th>
              <th>Persistence</th>
              <th className="num">Real servers</th>
              <th>Health</th>
              <th className="num">Active / inactive</th>
              <th className="num">New/s</th>
              <th className="num">Packets in/out</th>
              <th className="num">Bytes in/out</th>
              <th>
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => {
              const s = row.entity;
              const view = serviceView(s, gateways);
              const t = view.traffic;
              return (
                <tr key={s.id} data-service={s.name}>
                  <td>
                    <strong>{s.name}</strong> {!s.enabled && <span className="badge">disabled</span>}
                    {s.comment && <div className="muted small">{s.comment}</div>}
                  </td>
                  <td className="mono">{serviceAddress(s)}</td>
                  <td>
                    {s.scheduler} <span className="muted small">({VS_SCHEDULER_LABELS[s.scheduler]})</span>
                  </td>
                  <td>{s.persistenceSeconds > 0 ? `${s.persistenceSeconds} s` : <span className="muted">off</span>}</td>
                  <td className="num">{s.realServers.length}</td>
                  <td data-testid="service-health">{healthSummary(view.counts)}</td>
                  <td className="num">{t ? `${formatCount(t.active)} / ${formatCount(t.inactive)}` : "—"}</td>
                  <td className="num">{t ? formatCount(t.connectionsPerSecond) : "—"}</td>
                  <td className="num">{t ? `${formatCount(t.packetsIn)} / ${formatCount(t.packetsOut)}` : "—"}</td>
                  <td className="num">{t ? `${formatBytes(t.bytesIn)} / ${formatBytes(t.bytesOut)}` : "—"}</td>
                  <td style={{ whiteSpace: "nowrap" }}>
                    {canEdit && (
                      <>
                        <button
                          type="button"
                          onClick={() => dialogs.edit(row)}
                          aria-label={`Edit virtual service ${s.name}`}
                        >
                          Edit
                        </button>{" "}
                        <button
                          type="button"
                          className="danger"
                          onClick={() => dialogs.confirmDelete(row)}
                          aria-label={`Delete virtual service ${s.name}`}
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
      {rows.map((row) => (
        <RealServers key={row.entity.id} clusterId={clusterId} row={row} gateways={gateways} canEdit={canEdit} />
      ))}
      {dialogs.form && <ServiceForm clusterId={clusterId} editing={dialogs.form.row} onClose={dialogs.closeForm} />}
      {dialogs.deleting && (
        <ConfirmDeleteService clusterId={clusterId} row={dialogs.deleting} onClose={dialogs.closeDelete} />
      )}
    </>
  );
}

/** One service's real servers: weight, mode and state, health on each gateway, traffic, and the drain toggle. */
function RealServers({
  clusterId,
  row,
  gateways,
  canEdit,
}: {
  clusterId: string;
  row: Row;
  gateways: readonly GatewayVirtualServices[];
  canEdit: boolean;
}) {
  const trpc = useTRPC();
  const refresh = useRefreshAll();
  const toggle = useMutation(trpc.virtualService.setRealServerState.mutationOptions({ onSuccess: () => refresh() }));
  const s = row.entity;
  const view = serviceView(s, gateways);
  return (
    <section className="card" style={{ marginTop: 16 }} aria-label={`Real servers of ${s.name}`}>
      <h2 style={{ marginTop: 0 }}>
        {s.name} <span className="muted small mono">{serviceAddress(s)}</span>
      </h2>
      <div className="muted small" style={{ marginBottom: 6 }}>
        {s.fullNat ? "FULLNAT (clients SNATed to the gateway) · " : ""}
        {s.sorryServer
          ? `sorry server ${s.sorryServer.address}${s.sorryServer.port ? `:${s.sorryServer.port}` : ""} · `
          : ""}
        health check{" "}
        {s.healthCheck.kind === "none" ? "none" : `${s.healthCheck.kind} every ${s.healthCheck.intervalMs} ms`}
      </div>
      {toggle.error && (
        <div className="banner error" role="alert">
          {errorMessage(toggle.error)}
        </div>
      )}
      <table className="data" aria-label={`${s.name} real servers`}>
        <thead>
          <tr>
            <th>Real server</th>
            <th className="num">Weight</th>
            <th>Mode</th>
            <th>State</th>
            <th>Health</th>
            <th className="num">Active / inactive</th>
            <th className="num">Connections</th>
            <th className="num">New/s</th>
            <th className="num">Packets in/out</th>
            <th className="num">Bytes in/out</th>
            <th>
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {s.realServers.map((rs, i) => {
            const v = view.realServers[i] as RealServerView;
            const t = v.traffic;
            const name = realServerAddress(s, rs);
            return (
              <tr key={`${rs.address}:${rs.port}:${i}`} data-real-server={name}>
                <td className="mono">{name}</td>
                <td className="num">{rs.weight}</td>
                <td>{rs.mode.toUpperCase()}</td>
                <td>
                  <span className={rs.state === "draining" ? "badge warn" : "badge"}>{rs.state}</span>
                </td>
                <td data-testid="real-server-health">
                  <span className={healthClass(v.health)}>{v.health === "unknown" ? "no report" : v.health}</span>
                  {v.byGateway
                    .filter((g) => g.health === "down" || !g.online)
                    .map((g) => (
                      <div key={g.gatewayName} className="small muted">
                        {g.gatewayName}: {g.online ? g.health : "offline"}
                        {g.lastError ? ` (${g.lastError})` : ""}
                      </div>
                    ))}
                </td>
                <td className="num">{t ? `${t.active} / ${t.inactive}` : "—"}</td>
                <td className="num">{t ? formatCount(t.connections) : "—"}</td>
                <td className="num">{t ? formatCount(t.connectionsPerSecond) : "—"}</td>
                <td className="num">{t ? `${formatCount(t.packetsIn)} / ${formatCount(t.packetsOut)}` : "—"}</td>
                <td className="num">{t ? `${formatBytes(t.bytesIn)} / ${formatBytes(t.bytesOut)}` : "—"}</td>
                <td>
                  {canEdit && (
                    <button
                      type="button"
                      disabled={toggle.isPending}
                      aria-label={`${rs.state === "draining" ? "Enable" : "Drain"} real server ${name} of ${s.name}`}
                      onClick={() =>
                        toggle.mutate({
                          clusterId,
                          id: s.id,
                          version: row.version,
                          index: i,
                          state: rs.state === "draining" ? "enabled" : "draining",
                        })
                      }
                    >
                      {rs.state === "draining" ? "Enable" : "Drain"}
                    </button>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

function ConfirmDeleteService({ clusterId, row, onClose }: { clusterId: string; row: Row; onClose: () => void }) {
  const trpc = useTRPC();
  const refresh = useRefreshAll();
  const del = useMutation(
    trpc.virtualService.delete.mutationOptions({
      onSuccess: async () => {
        await refresh();
        onClose();
      },
    }),
  );
  const title = `virtual service "${row.entity.name}"`;
  return (
    <Modal title={`Delete ${title}?`} onClose={onClose}>
      <p>Deleting it changes the draft only; gateways stop serving {serviceAddress(row.entity)} when you publish.</p>
      {del.error && (
        <div className="banner error" role="alert">
          {errorMessage(del.error)}
        </div>
      )}
      <DialogActions
        tone="danger"
        onCancel={onClose}
        confirmLabel={`Delete ${title}`}
        pendingLabel="Deleting…"
        pending={del.isPending}
        onConfirm={() => del.mutate({ clusterId, id: row.entity.id, version: row.version })}
      />
    </Modal>
  );
}
