"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useParams } from "next/navigation";
import { type FormEvent, useState } from "react";
import { errorMessage, fieldErrors } from "../../../../../lib/errors";
import { useTRPC } from "../../../../../lib/trpc";
import { JobProgress } from "../job-progress";
import { JobsTable } from "../recent-jobs";
import { CONNECTION_LABELS, relativeTime } from "../present";
import { type AuthInput, CredentialsFields, type HostKey, HostKeyCheck } from "../ssh-forms";
import { sshTargetLabel, upgradeAvailable } from "../ssh-present";
import { IpRuleConflicts } from "../ip-rule-conflicts";
import { GatewayHaSection } from "../gateway-ha-section";
import { DrainDialog } from "../drain-dialog";
import { HaRole } from "../ha-role";

const REFRESH_MS = 3_000;
type Role = "viewer" | "operator" | "admin";

/** Stores (or replaces) the SSH login of a gateway, after its host key is read and confirmed. */
function CredentialsForm({
  gatewayId,
  initial,
  onDone,
}: {
  gatewayId: string;
  initial: { host: string; port: number; username: string } | null;
  onDone: () => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [host, setHost] = useState(initial?.host ?? "");
  const [port, setPort] = useState(String(initial?.port ?? 22));
  const [hostKey, setHostKey] = useState<HostKey | null>(null);
  const [username, setUsername] = useState(initial?.username ?? "root");
  const [auth, setAuth] = useState<AuthInput>({ kind: "key", privateKey: "" });
  const save = useMutation(
    trpc.gatewaySsh.setCredentials.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries({ queryKey: trpc.gatewaySsh.access.queryKey({ gatewayId }) });
        onDone();
      },
    }),
  );
  const errors = fieldErrors(save.error);
  function submit(e: FormEvent) {
    e.preventDefault();
    if (hostKey) save.mutate({ gatewayId, host: host.trim(), port: Number(port), username, auth, hostKey });
  }
  return (
    <form onSubmit={submit} aria-label="SSH credentials" className="card">
      <HostKeyCheck
        host={host}
        port={port}
        onTarget={(h, p) => {
          setHost(h);
          setPort(p);
        }}
        confirmed={hostKey}
        onConfirmed={setHostKey}
        errors={errors}
      />
      <CredentialsFields username={username} onUsername={setUsername} auth={auth} onAuth={setAuth} errors={errors} />
      {save.error && (
        <div className="banner error" role="alert">
          {errorMessage(save.error)}
        </div>
      )}
      <div className="row">
        <button className="primary" type="submit" disabled={!hostKey || save.isPending}>
          {save.isPending ? "Checking the login…" : "Check the login and keep it"}
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/** Reads the host key again and pins it once the admin confirms it (after a reinstall, say). */
function TrustNewKey({
  gatewayId,
  host,
  port,
  onDone,
}: {
  gatewayId: string;
  host: string;
  port: number;
  onDone: () => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [confirmed, setConfirmed] = useState<HostKey | null>(null);
  const trust = useMutation(
    trpc.gatewaySsh.trustHostKey.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries({ queryKey: trpc.gatewaySsh.access.queryKey({ gatewayId }) });
        onDone();
      },
    }),
  );
  return (
    <section className="card" aria-label="Trust a new host key">
      <HostKeyCheck
        host={host}
        port={String(port)}
        onTarget={() => {}}
        confirmed={confirmed}
        onConfirmed={setConfirmed}
        errors={{}}
      />
      {trust.error && (
        <div className="banner error" role="alert">
          {errorMessage(trust.error)}
        </div>
      )}
      <div className="row">
        <button
          type="button"
          className="primary"
          disabled={!confirmed || trust.isPending}
          onClick={() => confirmed && trust.mutate({ gatewayId, hostKey: confirmed })}
        >
          Pin this key
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </section>
  );
}

function SshAccessPanel({ gatewayId, role }: { gatewayId: string; role: Role }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const access = useQuery(trpc.gatewaySsh.access.queryOptions({ gatewayId }));
  const [editing, setEditing] = useState<"credentials" | "hostkey" | null>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const remove = useMutation(
    trpc.gatewaySsh.deleteCredentials.mutationOptions({
      onSuccess: async () => {
        setConfirmDelete(false);
        await queryClient.invalidateQueries({ queryKey: trpc.gatewaySsh.access.queryKey({ gatewayId }) });
      },
    }),
  );
  const isAdmin = role === "admin";
  if (access.isPending) return <div className="loading">Loading SSH access…</div>;
  if (access.error) {
    return (
      <div className="banner error" role="alert">
        {errorMessage(access.error)}
      </div>
    );
  }
  const a = access.data;
  return (
    <section aria-label="SSH access">
      <h2>SSH access</h2>
      {a === null ? (
        <p className="muted">
          No SSH access is configured for this gateway.{" "}
          {isAdmin ? "Add its login to run diagnostics and upgrades from here." : "An admin can add it."}
        </p>
      ) : (
        <div className="card">
          <div>
            <span className="mono">{sshTargetLabel(a)}</span>
            {a.serviceMode && <span className="muted small"> · agent runs as a {a.serviceMode} service</span>}
          </div>
          <div className="small">
            Pinned host key: <span className="mono">{a.hostKey.algorithm}</span>{" "}
            <span className="mono" data-testid="pinned-fingerprint">
              {a.hostKey.fingerprint}
            </span>
          </div>
          <div className="small">
            Credentials:{" "}
            {a.hasCredentials ? (
              <span className="badge ok">
                kept ({a.authKind === "password" ? "password" : "private key"}, encrypted)
              </span>
            ) : (
              <span className="badge">not kept</span>
            )}
          </div>
        </div>
      )}
      {isAdmin && editing === null && (
        <div className="row" style={{ marginTop: 8 }}>
          <button type="button" onClick={() => setEditing("credentials")}>
            {a?.hasCredentials ? "Replace credentials" : "Store credentials"}
          </button>
          {a && (
            <button type="button" onClick={() => setEditing("hostkey")}>
              Trust a new host key
            </button>
          )}
          {a?.hasCredentials && !confirmDelete && (
            <button type="button" className="danger" onClick={() => setConfirmDelete(true)}>
              Delete credentials
            </button>
          )}
          {confirmDelete && (
            <>
              <span className="small">The console forgets the login; the agent keeps running.</span>
              <button type="button" className="danger" onClick={() => remove.mutate({ gatewayId })}>
                Delete now
              </button>
              <button type="button" onClick={() => setConfirmDelete(false)}>
                Keep them
              </button>
            </>
          )}
        </div>
      )}
      {remove.error && (
        <div className="banner error" role="alert">
          {errorMessage(remove.error)}
        </div>
      )}
      {editing === "credentials" && (
        <CredentialsForm gatewayId={gatewayId} initial={a} onDone={() => setEditing(null)} />
      )}
      {editing === "hostkey" && a && (
        <TrustNewKey gatewayId={gatewayId} host={a.host} port={a.port} onDone={() => setEditing(null)} />
      )}
    </section>
  );
}

function DiagnosticsPanel({ gatewayId }: { gatewayId: string }) {
  const trpc = useTRPC();
  const run = useMutation(trpc.gatewaySsh.diagnostics.mutationOptions());
  return (
    <section aria-label="Diagnostics">
      <h2>Diagnostics</h2>
      <p className="muted small">
        A fixed set of read-only commands over SSH: the agent's nftables tables, its policy routing, SNATed connections
        per pool address, its status and its log.
      </p>
      <button type="button" disabled={run.isPending} onClick={() => run.mutate({ gatewayId })}>
        {run.isPending ? "Running diagnostics…" : "Run diagnostics"}
      </button>
      {run.error && (
        <div className="banner error" role="alert" style={{ whiteSpace: "pre-wrap" }}>
          {errorMessage(run.error)}
        </div>
      )}
      {run.data && (
        <div>
          <p className="muted small">
            Ran {new Date(run.data.ranAt).toLocaleString()} on host key {run.data.hostKey.fingerprint}.
          </p>
          {run.data.sections.map((s) => (
            <details key={s.key} open data-section={s.key} className="card">
              <summary>
                <strong>{s.title}</strong>{" "}
                <span className={`badge ${s.ok ? "ok" : "danger"}`}>
                  {s.ok ? "ok" : `failed (${s.exitCode ?? "?"})`}
                </span>{" "}
                <code className="muted small">{s.command}</code>
              </summary>
              <pre
                className="mono small"
                // biome-ignore lint/a11y/noNoninteractiveTabindex: it scrolls, so keyboard users must be able to reach it (axe scrollable-region-focusable)
                tabIndex={0}
                style={{ whiteSpace: "pre-wrap", margin: "6px 0 0", maxHeight: 420, overflow: "auto" }}
              >
                {s.output || "(no output)"}
                {s.truncated ? "\n… (output cut off)" : ""}
              </pre>
            </details>
          ))}
        </div>
      )}
    </section>
  );
}

function UpgradePanel({
  gatewayId,
  agentVersion,
  bundleVersion,
  hasCredentials,
  onStarted,
}: {
  gatewayId: string;
  agentVersion: string;
  bundleVersion: string;
  hasCredentials: boolean;
  onStarted: (jobId: string) => void;
}) {
  const trpc = useTRPC();
  const upgrade = useMutation(trpc.gatewaySsh.upgrade.mutationOptions({ onSuccess: (r) => onStarted(r.jobId) }));
  const behind = upgradeAvailable(agentVersion, bundleVersion);
  return (
    <section aria-label="Agent upgrade">
      <h2>Agent</h2>
      <p>
        Runs <span className="mono">{agentVersion || "unknown"}</span>; the console's build is{" "}
        <span className="mono">{bundleVersion || "not available"}</span>.
      </p>
      <button
        type="button"
        className={behind ? "primary" : ""}
        disabled={upgrade.isPending || bundleVersion === "" || !hasCredentials}
        onClick={() => upgrade.mutate({ gatewayId })}
      >
        {behind ? `Upgrade to ${bundleVersion}` : `Reinstall ${bundleVersion}`}
      </button>
      {!hasCredentials && <span className="muted small"> Upgrades over SSH need kept SSH credentials.</span>}
      {upgrade.error && (
        <div className="banner error" role="alert">
          {errorMessage(upgrade.error)}
        </div>
      )}
    </section>
  );
}

export default function GatewayPage() {
  const { clusterId, gatewayId } = useParams<{ clusterId: string; gatewayId: string }>();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const me = useQuery(trpc.auth.me.queryOptions());
  const gateway = useQuery({ ...trpc.gateway.get.queryOptions({ id: gatewayId }), refetchInterval: REFRESH_MS });
  const info = useQuery(trpc.gatewaySsh.info.queryOptions());
  const jobs = useQuery({
    ...trpc.gatewaySsh.jobs.queryOptions({ clusterId, gatewayId }),
    refetchInterval: REFRESH_MS,
  });
  const [openJob, setOpenJob] = useState<string | null>(null);
  const [draining, setDraining] = useState(false);
  const role = (me.data?.role ?? "viewer") as Role;
  const access = useQuery({ ...trpc.gatewaySsh.access.queryOptions({ gatewayId }), enabled: role !== "viewer" });

  if (gateway.isPending) return <div className="loading">Loading the gateway…</div>;
  if (gateway.error) {
    return (
      <div className="banner error" role="alert">
        {errorMessage(gateway.error)}
      </div>
    );
  }
  const g = gateway.data;
  const conn = CONNECTION_LABELS[g.connection];
  return (
    <>
      <div className="row" style={{ marginBottom: 12 }}>
        <h1 style={{ margin: 0 }}>{g.name}</h1>
        <span className={`badge ${conn.tone}`}>{conn.label}</span>
        <span className="muted small">
          {g.lastSeenAt ? `seen ${relativeTime(g.lastSeenAt, new Date())}` : conn.hint}
        </span>
        <div className="spacer" />
        <Link href={`/clusters/${clusterId}/gateways`}>All gateways</Link>
      </div>
      <IpRuleConflicts facts={g.facts} />
      <section className="card" aria-labelledby="gateway-vrrp-heading">
        <div className="row">
          <h2 id="gateway-vrrp-heading" style={{ margin: 0 }}>
            VRRP role
          </h2>
          <div className="spacer" />
          {role !== "viewer" && (
            <button type="button" className={g.drained ? "primary" : "danger"} onClick={() => setDraining(true)}>
              {g.drained ? "Return to service" : "Drain this gateway"}
            </button>
          )}
        </div>
        <HaRole ha={g.ha} drained={g.drained} />
      </section>
      {draining && (
        <DrainDialog gatewayId={g.id} gatewayName={g.name} drain={!g.drained} onClose={() => setDraining(false)} />
      )}
      <GatewayHaSection clusterId={clusterId} gatewayId={gatewayId} />
      {role === "viewer" ? (
        <p className="muted">SSH access and diagnostics need the operator role.</p>
      ) : (
        <>
          <SshAccessPanel gatewayId={gatewayId} role={role} />
          <DiagnosticsPanel gatewayId={gatewayId} />
        </>
      )}
      {role === "admin" && (
        <UpgradePanel
          gatewayId={gatewayId}
          agentVersion={g.agentVersion}
          bundleVersion={info.data?.bundle.version ?? ""}
          hasCredentials={access.data?.hasCredentials ?? false}
          onStarted={async (id) => {
            setOpenJob(id);
            await queryClient.invalidateQueries({ queryKey: trpc.gatewaySsh.jobs.queryKey({ clusterId, gatewayId }) });
          }}
        />
      )}
      {openJob && <JobProgress jobId={openJob} />}
      <section aria-label="SSH jobs">
        <h2>SSH jobs</h2>
        {jobs.data?.length === 0 && <p className="muted">No enrollment or upgrade jobs for this gateway yet.</p>}
        {jobs.data && jobs.data.length > 0 && (
          <JobsTable
            label="SSH jobs of this gateway"
            jobs={jobs.data}
            openJob={openJob}
            onToggle={(id) => setOpenJob(openJob === id ? null : id)}
          />
        )}
      </section>
    </>
  );
}
