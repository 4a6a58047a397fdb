"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useParams } from "next/navigation";
import { type FormEvent, type ReactNode, useEffect, useRef, useState } from "react";
import { errorMessage, fieldErrors } from "../../../../lib/errors";
import { useTRPC } from "../../../../lib/trpc";
import { AgentUpgrades } from "./agent-upgrades";
import { RecentJobs } from "./recent-jobs";
import {
  applyErrorGist,
  attemptedRevision,
  CONNECTION_LABELS,
  describeSync,
  enrolCommands,
  relativeTime,
} from "./present";

const REFRESH_MS = 3_000;

/** A modal <dialog> that is open while mounted. */
function Modal({ title, onClose, children }: { title: string; onClose: () => void; children: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);
  return (
    <dialog ref={ref} aria-label={title} onClose={onClose} onCancel={onClose}>
      <h2 style={{ marginTop: 0 }}>{title}</h2>
      {children}
    </dialog>
  );
}

function CopyButton({ text, label }: { text: string; label: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(text);
          setCopied(true);
          setTimeout(() => setCopied(false), 1500);
        } catch {
          // no clipboard (plain http): the text is selectable
        }
      }}
    >
      {copied ? "Copied" : label}
    </button>
  );
}

/** The one time a token is shown: the token, the commands that use it, and a warning. */
function TokenPanel({
  gatewayName,
  token,
  expiresAt,
  consoleUrl,
}: {
  gatewayName: string;
  token: string;
  expiresAt: Date;
  consoleUrl: string | null;
}) {
  const url = consoleUrl ?? window.location.origin;
  const commands = enrolCommands(url, token);
  return (
    <div>
      <div className="banner warn" role="status">
        This enrolment token for <strong>{gatewayName}</strong> is shown only now. It works once, until{" "}
        {expiresAt.toLocaleString()}.
      </div>
      <div className="field">
        <label htmlFor="enrol-token">Enrolment token</label>
        <div className="row">
          <input id="enrol-token" className="mono" readOnly value={token} onFocus={(e) => e.target.select()} />
          <CopyButton text={token} label="Copy token" />
        </div>
      </div>
      <div className="field">
        <label htmlFor="enrol-command">Run on the gateway, as root</label>
        <textarea
          id="enrol-command"
          className="mono"
          readOnly
          rows={3}
          value={commands}
          onFocus={(e) => e.target.select()}
        />
        <div className="row" style={{ marginTop: 6 }}>
          <CopyButton text={commands} label="Copy commands" />
          <span className="hint muted small">
            Install the agent first: <code>dist/gatehouse-agent.mjs</code> as{" "}
            <code>/usr/local/bin/gatehouse-agent</code> and <code>agent/systemd/gatehouse-agent.service</code> in{" "}
            <code>/etc/systemd/system/</code>.
          </span>
        </div>
      </div>
    </div>
  );
}

interface Issued {
  name: string;
  enrollToken: string;
  enrollExpiresAt: Date;
  consoleUrl: string | null;
}

function AddGatewayDialog({ clusterId, onClose }: { clusterId: string; onClose: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [name, setName] = useState("");
  const [address, setAddress] = useState("");
  const [issued, setIssued] = useState<Issued | null>(null);
  const create = useMutation(
    trpc.gateway.create.mutationOptions({
      onSuccess: async (r) => {
        setIssued(r);
        await queryClient.invalidateQueries({ queryKey: trpc.gateway.list.queryKey({ clusterId }) });
      },
    }),
  );
  const errors = fieldErrors(create.error);
  function submit(e: FormEvent) {
    e.preventDefault();
    create.mutate({ clusterId, name, address });
  }
  if (issued) {
    return (
      <Modal title={`Enrol ${issued.name}`} onClose={onClose}>
        <TokenPanel
          gatewayName={issued.name}
          token={issued.enrollToken}
          expiresAt={issued.enrollExpiresAt}
          consoleUrl={issued.consoleUrl}
        />
        <div className="row">
          <div className="spacer" />
          <button className="primary" type="button" onClick={onClose}>
            Done
          </button>
        </div>
      </Modal>
    );
  }
  return (
    <Modal title="Add gateway" onClose={onClose}>
      <form onSubmit={submit} aria-label="Add gateway">
        {create.error && !errors.name && !errors.address && (
          <div className="banner error" role="alert">
            {errorMessage(create.error)}
          </div>
        )}
        <div className="field">
          <label htmlFor="gw-name">Name</label>
          <input
            id="gw-name"
            value={name}
            onChange={(e) => setName(e.target.value)}
            aria-invalid={Boolean(errors.name)}
            aria-describedby={errors.name ? "gw-name-error" : undefined}
            autoFocus
          />
          {errors.name && (
            <div id="gw-name-error" className="field-error">
              Name {errors.name}
            </div>
          )}
        </div>
        <div className="field">
          <label htmlFor="gw-address">
            Management address <span className="hint">(host or IP address you reach it by; optional)</span>
          </label>
          <input
            id="gw-address"
            value={address}
            onChange={(e) => setAddress(e.target.value)}
            aria-invalid={Boolean(errors.address)}
            aria-describedby={errors.address ? "gw-address-error" : undefined}
          />
          {errors.address && (
            <div id="gw-address-error" className="field-error">
              Address {errors.address}
            </div>
          )}
        </div>
        <div className="row">
          <button className="primary" type="submit" disabled={create.isPending}>
            {create.isPending ? "Adding…" : "Add and show enrolment token"}
          </button>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Modal>
  );
}

type Action = { kind: "rotate" | "revoke" | "delete"; id: string; name: string };

function ActionDialog({ action, clusterId, onClose }: { action: Action; clusterId: string; onClose: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [revokeCurrent, setRevokeCurrent] = useState(false);
  const [issued, setIssued] = useState<Issued | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.gateway.list.queryKey({ clusterId }) });
  const closeAndRefresh = async () => {
    await refresh();
    onClose();
  };
  const rotate = useMutation(
    trpc.gateway.rotateToken.mutationOptions({
      onSuccess: async (r) => {
        setIssued(r);
        await refresh();
      },
    }),
  );
  const revoke = useMutation(trpc.gateway.revoke.mutationOptions({ onSuccess: closeAndRefresh }));
  const remove = useMutation(trpc.gateway.delete.mutationOptions({ onSuccess: closeAndRefresh }));
  const pending = rotate.isPending || revoke.isPending || remove.isPending;
  const error = rotate.error ?? revoke.error ?? remove.error;

  if (issued) {
    return (
      <Modal title={`New enrolment token for ${issued.name}`} onClose={onClose}>
        <TokenPanel
          gatewayName={issued.name}
          token={issued.enrollToken}
          expiresAt={issued.enrollExpiresAt}
          consoleUrl={issued.consoleUrl}
        />
        <div className="row">
          <div className="spacer" />
          <button className="primary" type="button" onClick={onClose}>
            Done
          </button>
        </div>
      </Modal>
    );
  }

  const text = {
    rotate: {
      title: `New enrolment token for ${action.name}`,
      body: "The gateway's agent keeps its current token until it enrols again with the new one, so it is never cut off in between. Any enrolment token issued before stops working.",
      button: "Issue token",
    },
    revoke: {
      title: `Revoke ${action.name}`,
      body: "Its agent token and any unused enrolment token stop working at once. The gateway keeps enforcing the rules it last applied, but no longer receives changes until it is enrolled again.",
      button: "Revoke",
    },
    delete: {
      title: `Delete ${action.name}`,
      body: "The console forgets this gateway and its token stops working. The gateway keeps the rules it last applied until its agent is stopped and its table removed by hand.",
      button: "Delete",
    },
  }[action.kind];

  return (
    <Modal title={text.title} onClose={onClose}>
      <p>{text.body}</p>
      {action.kind === "rotate" && (
        <div className="field row">
          <input
            id="revoke-current"
            type="checkbox"
            checked={revokeCurrent}
            onChange={(e) => setRevokeCurrent(e.target.checked)}
          />
          <label htmlFor="revoke-current" style={{ margin: 0, fontWeight: 400 }}>
            Also revoke the agent token in use now (it may have leaked); the gateway goes offline until re-enrolled
          </label>
        </div>
      )}
      {error && (
        <div className="banner error" role="alert">
          {errorMessage(error)}
        </div>
      )}
      <div className="row">
        <button
          type="button"
          className={action.kind === "rotate" ? "primary" : "danger"}
          disabled={pending}
          onClick={() => {
            if (action.kind === "rotate") rotate.mutate({ id: action.id, revokeCurrent });
            else if (action.kind === "revoke") revoke.mutate({ id: action.id });
            else remove.mutate({ id: action.id });
          }}
        >
          {pending ? "Working…" : text.button}
        </button>
        <button type="button" onClick={onClose}>
          Cancel
        </button>
      </div>
    </Modal>
  );
}

/** Operator ip rules the agent found before Gatehouse's own: they can override redirects and failovers. */
function IpRuleConflicts({ facts }: { facts: Record<string, unknown> }) {
  const check = facts.ipRules as { conflicts?: unknown; checkedAt?: unknown; error?: unknown } | null | undefined;
  const conflicts = Array.isArray(check?.conflicts)
    ? (check.conflicts as Array<{ priority?: unknown; rule?: unknown; before?: unknown }>)
    : [];
  const error = typeof check?.error === "string" ? check.error : "";
  if (conflicts.length === 0 && !error) return null;
  return (
    <div className="banner warn small" role="alert">
      {conflicts.length > 0 && (
        <>
          <div>
            {conflicts.length} ip rule{conflicts.length === 1 ? "" : "s"} of the operator come before Gatehouse's and
            can override its redirects and failovers:
          </div>
          {conflicts.map((c) => (
            <div key={`${String(c.priority)} ${String(c.rule)}`} className="mono">
              {String(c.priority)}: {String(c.rule)} (before {String(c.before)})
            </div>
          ))}
        </>
      )}
      {error && <div>Could not read the ip rules: {error}</div>}
    </div>
  );
}

function Facts({ facts }: { facts: Record<string, unknown> }) {
  const kernel = typeof facts.kernel === "string" ? facts.kernel : "";
  const nft = typeof facts.nftVersion === "string" ? facts.nftVersion : "";
  const interfaces = Array.isArray(facts.interfaces)
    ? (facts.interfaces as Array<{ name?: unknown; addresses?: unknown }>)
    : [];
  if (!kernel && !nft && interfaces.length === 0) return null;
  return (
    <details>
      <summary className="small muted">host</summary>
      <div className="small">
        {kernel && <div>kernel {kernel}</div>}
        {nft && <div>nftables {nft}</div>}
        {interfaces.map((i) => (
          <div key={String(i.name)} className="mono">
            {String(i.name)}: {Array.isArray(i.addresses) ? i.addresses.join(", ") || "no address" : ""}
          </div>
        ))}
      </div>
    </details>
  );
}

export default function GatewaysPage() {
  const { clusterId } = useParams<{ clusterId: string }>();
  const trpc = useTRPC();
  const me = useQuery(trpc.auth.me.queryOptions());
  const list = useQuery({ ...trpc.gateway.list.queryOptions({ clusterId }), refetchInterval: REFRESH_MS });
  const [adding, setAdding] = useState(false);
  const [action, setAction] = useState<Action | null>(null);
  const isAdmin = me.data?.role === "admin";
  const now = new Date();

  return (
    <>
      <div className="row" style={{ marginBottom: 12 }}>
        <h1 style={{ margin: 0 }}>Gateways</h1>
        {list.data && (
          <span className="muted small">
            published revision {list.data.published.revision === 0 ? "none yet" : `#${list.data.published.revision}`},
            failover epoch {list.data.published.failoverEpoch}
          </span>
        )}
        <div className="spacer" />
        {list.isFetching && !list.isPending && <span className="muted small">refreshing…</span>}
        {isAdmin && (
          <Link className="button" href={`/clusters/${clusterId}/gateways/add-ssh`}>
            Add over SSH
          </Link>
        )}
        {isAdmin && (
          <button className="primary" type="button" onClick={() => setAdding(true)}>
            Add gateway
          </button>
        )}
      </div>
      {adding && <AddGatewayDialog clusterId={clusterId} onClose={() => setAdding(false)} />}
      {action && <ActionDialog action={action} clusterId={clusterId} onClose={() => setAction(null)} />}

      {list.isPending && <div className="loading">Loading gateways…</div>}
      {list.error && (
        <div className="banner error" role="alert">
          {errorMessage(list.error)}
          {list.data ? " (showing the last known state)" : ""}
        </div>
      )}
      {list.data?.gateways.length === 0 && (
        <div className="card empty">
          No gateways in this cluster yet.{" "}
          {isAdmin ? "Add one to get the command that enrols its agent." : "An admin can add one."}
        </div>
      )}
      {list.data && list.data.gateways.length > 0 && (
        <table className="data" aria-label="Gateways">
          <thead>
            <tr>
              <th>Gateway</th>
              <th>State</th>
              <th>Applied / published</th>
              <th>Last apply</th>
              <th>Agent</th>
              {isAdmin && <th>Manage</th>}
            </tr>
          </thead>
          <tbody>
            {list.data.gateways.map((g) => {
              const conn = CONNECTION_LABELS[g.connection];
              const sync = describeSync(g, list.data.published);
              return (
                <tr key={g.id}>
                  <td>
                    <Link href={`/clusters/${clusterId}/gateways/${g.id}`}>
                      <strong>{g.name}</strong>
                    </Link>
                    {g.address && <div className="muted small mono">{g.address}</div>}
                  </td>
                  <td>
                    <span className={`badge ${conn.tone}`}>{conn.label}</span>
                    <div className="muted small">
                      {g.lastSeenAt ? `seen ${relativeTime(g.lastSeenAt, now)}` : conn.hint}
                    </div>
                    {g.enrolmentPending && g.hasAgentToken && (
                      <div className="muted small">new enrolment token issued, not used yet</div>
                    )}
                  </td>
                  <td>
                    <span className={`badge ${sync.tone}`}>{sync.label}</span>
                    <div className="muted small">{sync.detail}</div>
                  </td>
                  <td>
                    {g.lastApplyAt === null ? (
                      <span className="muted">never</span>
                    ) : g.lastApplyOk ? (
                      <span>ok, {relativeTime(g.lastApplyAt, now)}</span>
                    ) : (
                      <div role="status">
                        <span className="badge danger">failed</span>{" "}
                        {attemptedRevision(g.facts) === null ? "" : `revision #${attemptedRevision(g.facts)}, `}
                        {relativeTime(g.lastApplyAt, now)}: {applyErrorGist(g.lastApplyError)}
                        <div className="muted small">
                          The gateway keeps the rules it ran before
                          {g.appliedRevision === null ? "" : ` (#${g.appliedRevision})`}.
                        </div>
                        <details>
                          <summary className="small">nft said</summary>
                          <pre className="mono small" style={{ whiteSpace: "pre-wrap", margin: 0 }}>
                            {g.lastApplyError}
                          </pre>
                        </details>
                      </div>
                    )}
                  </td>
                  <td>
                    {g.agentVersion ? (
                      <span className="mono small">{g.agentVersion}</span>
                    ) : (
                      <span className="muted">—</span>
                    )}
                    <IpRuleConflicts facts={g.facts} />
                    <Facts facts={g.facts} />
                  </td>
                  {isAdmin && (
                    <td>
                      <div className="row">
                        <button type="button" onClick={() => setAction({ kind: "rotate", id: g.id, name: g.name })}>
                          New token
                        </button>
                        {(g.hasAgentToken || g.enrolmentPending) && (
                          <button type="button" onClick={() => setAction({ kind: "revoke", id: g.id, name: g.name })}>
                            Revoke
                          </button>
                        )}
                        <button
                          type="button"
                          className="danger"
                          onClick={() => setAction({ kind: "delete", id: g.id, name: g.name })}
                        >
                          Delete
                        </button>
                      </div>
                    </td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {list.data && list.data.gateways.length > 0 && (
        <AgentUpgrades clusterId={clusterId} isAdmin={isAdmin} gateways={list.data.gateways} />
      )}
      <RecentJobs clusterId={clusterId} />
      {list.data && (
        <p className="muted small">
          Agents report every {list.data.heartbeatSeconds} s; a gateway not heard from for{" "}
          {list.data.offlineAfterSeconds} s is shown offline. Offline gateways keep enforcing the rules they last
          applied.
        </p>
      )}
    </>
  );
}
