import { z } from "zod";
import { HEARTBEAT_SECONDS, OFFLINE_AFTER_SECONDS } from "../../../core/protocol/agent-api";
import { env } from "../../env";
import { zId } from "../../../core/policy/model";
import {
  createGateway,
  deleteGateway,
  getGateway,
  listGateways,
  revokeGateway,
  rotateGatewayToken,
  zGatewayCreate,
  zGatewayRotate,
} from "../../services/gateways/gateways";
import { drainPreview, listHaIncidents, setGatewayDrained, zDrainInput } from "../../services/gateways/ha";
import { getGatewaySettings, updateGatewaySettings, zGatewaySettingsUpdate } from "../../services/gateways/settings";
import { adminProcedure, operatorProcedure, router, viewerProcedure } from "../init";

const zGatewayRef = z.object({ id: zId });

/** The console URL agents should use, when the deployment says; the UI falls back to the page's origin. */
const consoleUrl = () => env.GATEHOUSE_PUBLIC_URL ?? null;

export const gatewayRouter = router({
  list: viewerProcedure.input(z.object({ clusterId: zId })).query(async ({ ctx, input }) => ({
    ...(await listGateways(ctx.db, input.clusterId)),
    heartbeatSeconds: HEARTBEAT_SECONDS,
    offlineAfterSeconds: OFFLINE_AFTER_SECONDS,
  })),
  get: viewerProcedure.input(zGatewayRef).query(({ ctx, input }) => getGateway(ctx.db, input.id)),
  /** returns the enrollment token: the only time anyone sees it */
  create: adminProcedure.input(zGatewayCreate).mutation(async ({ ctx, input }) => ({
    ...(await createGateway(ctx.db, ctx.actor, ctx.meta, input)),
    consoleUrl: consoleUrl(),
  })),
  rotateToken: adminProcedure.input(zGatewayRotate).mutation(async ({ ctx, input }) => ({
    ...(await rotateGatewayToken(ctx.db, ctx.actor, ctx.meta, input)),
    consoleUrl: consoleUrl(),
  })),
  revoke: adminProcedure.input(zGatewayRef).mutation(async ({ ctx, input }) => {
    await revokeGateway(ctx.db, ctx.actor, ctx.meta, input);
    return { ok: true };
  }),
  delete: adminProcedure.input(zGatewayRef).mutation(async ({ ctx, input }) => {
    await deleteGateway(ctx.db, ctx.actor, ctx.meta, input);
    return { ok: true };
  }),
  /** the gateway's links, LAN and VRRP settings in the draft, with their issues */
  settings: viewerProcedure.input(zGatewayRef).query(({ ctx, input }) => getGatewaySettings(ctx.db, input.id)),
  updateSettings: operatorProcedure
    .input(zGatewaySettingsUpdate)
    .mutation(({ ctx, input }) => updateGatewaySettings(ctx.db, ctx.actor, ctx.meta, input)),
  /** what draining (or returning) the gateway would move where, for the confirmation */
  drainPreview: viewerProcedure.input(zDrainInput).query(({ ctx, input }) => drainPreview(ctx.db, input)),
  drain: operatorProcedure
    .input(zDrainInput)
    .mutation(({ ctx, input }) => setGatewayDrained(ctx.db, ctx.actor, ctx.meta, input)),
  /** open split-brain and no-healthy-backup incidents of the cluster */
  haIncidents: viewerProcedure
    .input(z.object({ clusterId: zId }))
    .query(({ ctx, input }) => listHaIncidents(ctx.db, input.clusterId)),
});
