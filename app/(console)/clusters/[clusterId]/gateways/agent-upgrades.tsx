"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { errorMessage } from "../../../../lib/errors";
import { useTRPC } from "../../../../lib/trpc";
import { JobProgress } from "./job-progress";
import { upgradeAvailable } from "./ssh-present";

/**
 * The console's agent build against what the cluster's gateways run, and (for admins) the
 * cluster upgrade: one gateway at a time, stopping at the first failure.
 */
export function AgentUpgrades({
  clusterId,
  isAdmin,
  gateways,
}: {
  clusterId: string;
  isAdmin: boolean;
  gateways: Array<{ name: string; agentVersion: string }>;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const info = useQuery(trpc.gatewaySsh.info.queryOptions());
  const jobs = useQuery(trpc.gatewaySsh.jobs.queryOptions({ clusterId }));
  const [jobId, setJobId] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const start = useMutation(
    trpc.gatewaySsh.upgradeCluster.mutationOptions({
      onSuccess: async (r) => {
        setConfirming(false);
        setJobId(r.jobId);
        await queryClient.invalidateQueries({ queryKey: trpc.gatewaySsh.jobs.queryKey({ clusterId }) });
      },
    }),
  );
  const version = info.data?.bundle.version ?? "";
  const behind = gateways.filter((g) => upgradeAvailable(g.agentVersion, version));
  const lastClusterJob = jobs.data?.find((j) => j.kind === "upgrade_cluster");
  const shownJob = jobId ?? lastClusterJob?.id ?? null;
  return (
    <section aria-label="Agent upgrades" style={{ marginTop: 16 }}>
      <h2>Agent upgrades</h2>
      <p className="small">
        The console's agent build is <span className="mono">{version || "not available"}</span>
        {info.data?.bundle.error ? ` (${info.data.bundle.error})` : ""}.{" "}
        {behind.length === 0
          ? "Every gateway that reported runs it."
          : `${behind.length} gateway${behind.length === 1 ? "" : "s"} run another version: ${behind.map((g) => g.name).join(", ")}.`}
      </p>
      {isAdmin && !confirming && (
        <button type="button" disabled={version === "" || gateways.length === 0} onClick={() => setConfirming(true)}>
          Upgrade all gateways…
        </button>
      )}
      {isAdmin && confirming && (
        <section className="card" aria-label="Confirm the cluster upgrade">
          <p style={{ marginTop: 0 }}>
            Each gateway in name order gets {version}: upload, swap, restart, and a wait until it reports the new
            version. The first failure stops the upgrade (that gateway is rolled back); the gateways after it are not
            touched.
          </p>
          <div className="row">
            <button
              type="button"
              className="primary"
              disabled={start.isPending}
              onClick={() => start.mutate({ clusterId })}
            >
              {start.isPending ? "Starting…" : `Upgrade to ${version}`}
            </button>
            <button type="button" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </div>
        </section>
      )}
      {start.error && (
        <div className="banner error" role="alert">
          {errorMessage(start.error)}
        </div>
      )}
      {shownJob && (
        <JobProgress
          jobId={shownJob}
          onFinished={() => queryClient.invalidateQueries({ queryKey: trpc.gateway.list.queryKey({ clusterId }) })}
        />
      )}
    </section>
  );
}
