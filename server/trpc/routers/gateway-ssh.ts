import { z } from "zod";
import { env } from "../../env";
import { zId } from "../../../core/policy/model";
import {
  deleteCredentials,
  getAccess,
  scanHostKey,
  secretKeyFor,
  setCredentials,
  trustHostKey,
} from "../../services/gateway-ssh/access";
import { gatewaySshDeps } from "../../services/gateway-ssh/deps";
import { runDiagnostics } from "../../services/gateway-ssh/diagnostics";
import { startEnrollment } from "../../services/gateway-ssh/enroll";
import {
  zConfirmedHostKey,
  zEnrollInput,
  zSetCredentialsInput,
  zSshEndpointInput,
} from "../../services/gateway-ssh/inputs";
import { getJob, listJobs } from "../../services/gateway-ssh/jobs";
import { startClusterUpgrade, startUpgrade } from "../../services/gateway-ssh/upgrade";
import { adminProcedure, operatorProcedure, router, viewerProcedure } from "../init";

/**
 * Gateways over SSH: enroll one, keep or forget its credentials, re-pin its host key, run
 * diagnostics, push agent upgrades, and follow the jobs that do the long work.
 *
 * Roles: admins manage gateways (enroll, credentials, host keys, upgrades). Diagnostics only read,
 * and operators act on what they show, so operators may run them; viewers may not (a run logs in
 * to the gateway as root and shows its ruleset and log). Anyone signed in may follow a job: jobs
 * carry step names and messages, never credentials or tokens.
 */

const zGatewayRef = z.object({ gatewayId: zId });

export const gatewaySshRouter = router({
  /** the agent build upgrades push, and whether credentials can be kept on this console */
  info: viewerProcedure.query(async ({ ctx }) => {
    const deps = gatewaySshDeps(ctx.db);
    let canKeepCredentials = true;
    let keyProblem = "";
    try {
      secretKeyFor(deps, "store");
    } catch (e) {
      canKeepCredentials = false;
      keyProblem = (e as Error).message;
    }
    const bundle = await deps.bundle().then(
      (b) => ({ version: b.version, sizeBytes: b.bytes.length, sha256: b.sha256, error: "" }),
      (e: unknown) => ({ version: "", sizeBytes: 0, sha256: "", error: (e as Error).message }),
    );
    return { bundle, canKeepCredentials, keyProblem, consoleUrl: env.GATEHOUSE_PUBLIC_URL ?? null };
  }),
  scanHostKey: adminProcedure
    .input(zSshEndpointInput)
    .mutation(({ ctx, input }) => scanHostKey(gatewaySshDeps(ctx.db), input)),
  enroll: adminProcedure.input(zEnrollInput).mutation(async ({ ctx, input }) => {
    const { jobId } = await startEnrollment(gatewaySshDeps(ctx.db), ctx.actor, ctx.meta, input);
    return { jobId };
  }),
  job: viewerProcedure.input(z.object({ id: zId })).query(({ ctx, input }) => getJob(ctx.db, input.id)),
  jobs: viewerProcedure
    .input(z.object({ clusterId: zId, gatewayId: zId.optional() }))
    .query(({ ctx, input }) => listJobs(ctx.db, input.clusterId, input.gatewayId)),
  access: operatorProcedure.input(zGatewayRef).query(({ ctx, input }) => getAccess(ctx.db, input.gatewayId)),
  setCredentials: adminProcedure
    .input(zSetCredentialsInput)
    .mutation(({ ctx, input }) => setCredentials(gatewaySshDeps(ctx.db), ctx.actor, ctx.meta, input)),
  deleteCredentials: adminProcedure.input(zGatewayRef).mutation(async ({ ctx, input }) => {
    await deleteCredentials(gatewaySshDeps(ctx.db), ctx.actor, ctx.meta, input);
    return { ok: true };
  }),
  trustHostKey: adminProcedure
    .input(zGatewayRef.extend({ hostKey: zConfirmedHostKey }))
    .mutation(({ ctx, input }) => trustHostKey(gatewaySshDeps(ctx.db), ctx.actor, ctx.meta, input)),
  diagnostics: operatorProcedure
    .input(zGatewayRef)
    .mutation(({ ctx, input }) => runDiagnostics(gatewaySshDeps(ctx.db), ctx.actor, ctx.meta, input)),
  upgrade: adminProcedure.input(zGatewayRef).mutation(async ({ ctx, input }) => {
    const { jobId } = await startUpgrade(gatewaySshDeps(ctx.db), ctx.actor, ctx.meta, input);
    return { jobId };
  }),
  upgradeCluster: adminProcedure.input(z.object({ clusterId: zId })).mutation(async ({ ctx, input }) => {
    const { jobId } = await startClusterUpgrade(gatewaySshDeps(ctx.db), ctx.actor, ctx.meta, input);
    return { jobId };
  }),
});
