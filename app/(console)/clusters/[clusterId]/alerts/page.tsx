"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useParams } from "next/navigation";
import { useState } from "react";
import { PageHead } from "@/app/components/page-head";
import { errorMessage } from "@/app/lib/errors";
import { useTRPC } from "@/app/lib/trpc";
import type { ChannelView } from "@/server/services/alerts/channels";
import { ChannelForm } from "./channel-form";
import { IncidentHistory } from "./incident-history";

const REFRESH_MS = 5_000;

function destination(c: ChannelView): string {
  if (c.settings.kind === "webhook") {
    return `${c.settings.format === "slack" ? "Slack-compatible" : "JSON"} to ${c.secretHint}`;
  }
  return `${c.settings.to.join(", ")} via ${c.settings.host}:${c.settings.port}`;
}

function lastDelivery(c: ChannelView): { text: string; bad: boolean } {
  if (c.lastAt === null) return { text: "nothing sent yet", bad: false };
  const at = new Date(c.lastAt).toLocaleString();
  return c.lastOk
    ? { text: `last delivery succeeded ${at}`, bad: false }
    : { text: `last delivery failed ${at}: ${c.lastError}`, bad: true };
}

/**
 * Where the cluster's alerts go, and what it alerted about: one message when an incident starts
 * (ISP down or failed over, gateway offline, apply failed, no healthy backup, split brain) and one
 * when it ends. Admins add, change, test and delete channels.
 */
export default function AlertsPage() {
  const { clusterId } = useParams<{ clusterId: string }>();
  const trpc = useTRPC();
  const me = useQuery(trpc.auth.me.queryOptions());
  const isAdmin = me.data?.role === "admin";
  const channels = useQuery({ ...trpc.alert.channels.queryOptions({ clusterId }), refetchInterval: REFRESH_MS });
  const [editing, setEditing] = useState<ChannelView | "new" | null>(null);
  const [notice, setNotice] = useState<{ ok: boolean; text: string } | null>(null);
  const test = useMutation(
    trpc.alert.testChannel.mutationOptions({
      onSuccess: async (r, input) => {
        const name = channels.data?.find((c) => c.id === input.id)?.name ?? "the channel";
        setNotice(
          r.ok
            ? { ok: true, text: `Test message sent through "${name}".` }
            : { ok: false, text: `Test message through "${name}" failed: ${r.error}` },
        );
        await channels.refetch();
      },
      onError: (e) => setNotice({ ok: false, text: errorMessage(e) }),
    }),
  );
  const remove = useMutation(
    trpc.alert.deleteChannel.mutationOptions({
      onSuccess: async () => {
        setNotice({ ok: true, text: "Channel deleted." });
        await channels.refetch();
      },
      onError: (e) => setNotice({ ok: false, text: errorMessage(e) }),
    }),
  );

  return (
    <>
      <PageHead title="Alerts" note="one message when an incident starts, one when it ends">
        {isAdmin && editing === null && (
          <button
            type="button"
            className="primary"
            onClick={() => {
              setNotice(null);
              setEditing("new");
            }}
          >
            Add channel
          </button>
        )}
      </PageHead>
      {notice && (
        <div className={`banner ${notice.ok ? "ok" : "error"}`} role={notice.ok ? "status" : "alert"}>
          {notice.text}
        </div>
      )}
      {editing !== null && (
        <ChannelForm
          key={editing === "new" ? "new" : editing.id}
          clusterId={clusterId}
          channel={editing === "new" ? null : editing}
          onDone={async (message) => {
            setEditing(null);
            if (message !== "") setNotice({ ok: true, text: message });
            await channels.refetch();
          }}
        />
      )}
      <section aria-labelledby="channels-heading">
        <h2 id="channels-heading">Channels</h2>
        {channels.isPending ? (
          <div className="loading">Loading channels…</div>
        ) : channels.error ? (
          <div className="banner error">{errorMessage(channels.error)}</div>
        ) : channels.data.length === 0 ? (
          <p className="muted">
            No channels yet: incidents are recorded below and in the history, but nobody is told.{" "}
            {isAdmin ? "Add a webhook or an email channel." : "An admin can add one."}
          </p>
        ) : (
          <table className="data" aria-label="Alert channels">
            <thead>
              <tr>
                <th>Name</th>
                <th>Sends</th>
                <th>State</th>
                <th>Last delivery</th>
                {isAdmin && (
                  <th>
                    <span className="sr-only">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {channels.data.map((c) => {
                const last = lastDelivery(c);
                return (
                  <tr key={c.id}>
                    <td>{c.name}</td>
                    <td>{destination(c)}</td>
                    <td>{c.enabled ? "enabled" : "disabled"}</td>
                    <td style={last.bad ? { color: "var(--danger)" } : undefined}>{last.text}</td>
                    {isAdmin && (
                      <td className="row" style={{ gap: 6 }}>
                        <button
                          type="button"
                          onClick={() => test.mutate({ id: c.id })}
                          disabled={test.isPending}
                          aria-label={`Send test through ${c.name}`}
                        >
                          {test.isPending && test.variables?.id === c.id ? "Sending…" : "Send test"}
                        </button>
                        <button type="button" onClick={() => setEditing(c)} aria-label={`Edit ${c.name}`}>
                          Edit
                        </button>
                        <button
                          type="button"
                          className="danger"
                          aria-label={`Delete ${c.name}`}
                          disabled={remove.isPending}
                          onClick={() => {
                            if (window.confirm(`Delete alert channel "${c.name}"?`)) {
                              remove.mutate({ id: c.id, version: c.version });
                            }
                          }}
                        >
                          Delete
                        </button>
                      </td>
                    )}
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </section>
      <section aria-labelledby="incidents-heading" style={{ marginTop: 24 }}>
        <div className="row">
          <h2 id="incidents-heading">Alert history</h2>
          <div className="spacer" />
          <Link href={`/audit?clusterId=${encodeURIComponent(clusterId)}&action=alert.`}>
            Alert events in the audit log
          </Link>
        </div>
        <IncidentHistory clusterId={clusterId} refreshMs={REFRESH_MS} />
      </section>
    </>
  );
}
