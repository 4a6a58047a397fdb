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
import { adminProcedure, router, viewerProcedure } from "../init";

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
});
