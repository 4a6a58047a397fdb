"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useParams } from "next/navigation";
import { type FormEvent, useCallback, useEffect, useState } from "react";
import { CheckField, Field, inputProps, withSubject } from "../../../../../components/field";
import { errorMessage, fieldErrors } from "../../../../../lib/errors";
import { useTRPC } from "../../../../../lib/trpc";
import { JobProgress } from "../job-progress";
import { type AuthInput, CredentialsFields, type HostKey, HostKeyCheck } from "../ssh-forms";
import type { JobStateName } from "../ssh-present";

/**
 * Adding a gateway over SSH: the admin reads and confirms the host key, gives the login and the
 * console URL the agent will use, and watches the enrollment job step by step.
 */
export default function AddGatewayOverSshPage() {
  const { clusterId } = useParams<{ clusterId: string }>();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const me = useQuery(trpc.auth.me.queryOptions());
  const info = useQuery(trpc.gatewaySsh.info.queryOptions());
  const [host, setHost] = useState("");
  const [port, setPort] = useState("22");
  const [hostKey, setHostKey] = useState<HostKey | null>(null);
  const [name, setName] = useState("");
  const [username, setUsername] = useState("root");
  const [auth, setAuth] = useState<AuthInput>({ kind: "key", privateKey: "" });
  const [keep, setKeep] = useState(true);
  const [consoleUrl, setConsoleUrl] = useState("");
  const [serviceMode, setServiceMode] = useState<"auto" | "systemd" | "supervised">("auto");
  const [jobId, setJobId] = useState<string | null>(null);
  const [finished, setFinished] = useState<{ state: JobStateName; gatewayId: string | null } | null>(null);

  useEffect(() => {
    if (info.data && consoleUrl === "") setConsoleUrl(info.data.consoleUrl ?? window.location.origin);
    if (info.data && !info.data.canKeepCredentials) setKeep(false);
  }, [info.data, consoleUrl]);

  const enroll = useMutation(trpc.gatewaySsh.enroll.mutationOptions({ onSuccess: (r) => setJobId(r.jobId) }));
  const errors = fieldErrors(enroll.error);
  const onFinished = useCallback(
    async (state: JobStateName) => {
      const job = jobId ? await queryClient.fetchQuery(trpc.gatewaySsh.job.queryOptions({ id: jobId })) : null;
      setFinished({ state, gatewayId: job?.gatewayId ?? null });
      await queryClient.invalidateQueries({ queryKey: trpc.gateway.list.queryKey({ clusterId }) });
    },
    [jobId, queryClient, trpc, clusterId],
  );

  if (me.data && me.data.role !== "admin") {
    return <div className="banner error">Adding gateways needs the admin role; you are {me.data.role}.</div>;
  }

  function submit(e: FormEvent) {
    e.preventDefault();
    if (!hostKey) return;
    enroll.mutate({
      clusterId,
      name,
      host: host.trim(),
      port: Number(port),
      username,
      auth,
      hostKey,
      consoleUrl,
      keepCredentials: keep,
      serviceMode,
    });
  }

  return (
    <>
      <div className="row" style={{ marginBottom: 12 }}>
        <h1 style={{ margin: 0 }}>Add a gateway over SSH</h1>
        <div className="spacer" />
        <Link href={`/clusters/${clusterId}/gateways`}>Back to gateways</Link>
      </div>
      {jobId ? (
        <>
          <JobProgress jobId={jobId} onFinished={onFinished} />
          {finished && (
            <div className="row" style={{ marginTop: 12 }}>
              {finished.state === "succeeded" && finished.gatewayId && (
                <Link className="button primary" href={`/clusters/${clusterId}/gateways/${finished.gatewayId}`}>
                  Open the gateway
                </Link>
              )}
              {finished.state !== "succeeded" && (
                <button
                  type="button"
                  onClick={() => {
                    setJobId(null);
                    setFinished(null);
                    enroll.reset();
                  }}
                >
                  Change the details and try again
                </button>
              )}
            </div>
          )}
        </>
      ) : (
        <form onSubmit={submit} aria-label="Add a gateway over SSH" className="card" style={{ maxWidth: 760 }}>
          <p className="muted small" style={{ marginTop: 0 }}>
            The console logs in over SSH, checks the host (Linux, root or passwordless sudo, nft, ip, conntrack, fping,
            Node 20.19 or newer), installs the agent as a service, enrolls it and waits until it reports. If a step
            fails, what was installed is removed again.
          </p>
          <h2 style={{ marginTop: 0 }}>1. Host key</h2>
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
          <h2>2. Gateway and login</h2>
          <Field id="gw-name" label="Gateway name" errors={withSubject("Name", errors.name)}>
            <input
              {...inputProps("gw-name", withSubject("Name", errors.name))}
              value={name}
              onChange={(e) => setName(e.target.value)}
            />
          </Field>
          <CredentialsFields
            username={username}
            onUsername={setUsername}
            auth={auth}
            onAuth={setAuth}
            errors={errors}
          />
          <CheckField
            id="ssh-keep"
            label="Keep the credentials (encrypted) for diagnostics and upgrades; they can be deleted later"
          >
            <input
              id="ssh-keep"
              type="checkbox"
              checked={keep}
              disabled={info.data?.canKeepCredentials === false}
              onChange={(e) => setKeep(e.target.checked)}
            />
          </CheckField>
          {info.data?.canKeepCredentials === false && (
            <div className="banner warn" role="status">
              {info.data.keyProblem} The credentials are used for this enrollment only.
            </div>
          )}
          <h2>3. Agent</h2>
          <Field
            id="ssh-console-url"
            label="Console URL"
            hint="(as the gateway reaches it)"
            errors={withSubject("Console URL", errors.consoleUrl)}
          >
            <input
              {...inputProps("ssh-console-url", withSubject("Console URL", errors.consoleUrl))}
              value={consoleUrl}
              onChange={(e) => setConsoleUrl(e.target.value)}
            />
          </Field>
          <Field id="ssh-service" label="Service">
            <select
              id="ssh-service"
              value={serviceMode}
              onChange={(e) => setServiceMode(e.target.value as typeof serviceMode)}
            >
              <option value="auto">systemd if it is the init system, else a supervised process</option>
              <option value="systemd">systemd</option>
              <option value="supervised">supervised process (no systemd)</option>
            </select>
          </Field>
          {info.data?.bundle.error && (
            <div className="banner error" role="alert">
              {info.data.bundle.error}
            </div>
          )}
          {enroll.error && (
            <div className="banner error" role="alert">
              {errorMessage(enroll.error)}
            </div>
          )}
          <div className="row">
            <button className="primary" type="submit" disabled={!hostKey || enroll.isPending}>
              {enroll.isPending
                ? "Starting…"
                : `Install and enroll${info.data?.bundle.version ? ` agent ${info.data.bundle.version}` : ""}`}
            </button>
            {!hostKey && <span className="muted small">Read and confirm the host key first.</span>}
          </div>
        </form>
      )}
    </>
  );
}
