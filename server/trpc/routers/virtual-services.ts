import { z } from "zod";
import { zId } from "../../../core/policy/fields";
import type { VirtualServiceFields } from "../../../core/policy/virtual-service";
import {
  createVirtualService,
  deleteVirtualService,
  getVirtualService,
  listVirtualServices,
  setRealServerState,
  updateVirtualService,
  zRealServerStateInput,
  zVersionedVirtualServiceRef,
  zVirtualServiceRef,
} from "../../services/draft/virtual-services";
import { virtualServiceStatus } from "../../services/gateways/virtual-service-status";
import { operatorProcedure, router, viewerProcedure } from "../init";
import { clusterLive } from "../live-loop";
import { zClusterRef } from "./entities";

// typed for callers as the service's fields; checked by the service, which words the messages
const zFields = z.custom<VirtualServiceFields>(() => true);

export const virtualServiceRouter = router({
  list: viewerProcedure.input(zClusterRef).query(({ ctx, input }) => listVirtualServices(ctx.db, input.clusterId)),
  get: viewerProcedure
    .input(zVirtualServiceRef)
    .query(({ ctx, input }) => getVirtualService(ctx.db, input.clusterId, input.id)),
  /** each gateway's last report of real server health and traffic */
  status: viewerProcedure.input(zClusterRef).query(({ ctx, input }) => virtualServiceStatus(ctx.db, input.clusterId)),
  /** the same, live over server-sent events: whenever a report arrives, and at least once a second */
  live: viewerProcedure.input(zClusterRef).subscription(async function* ({ ctx, input, signal }) {
    yield* clusterLive({
      db: ctx.db,
      sessionId: ctx.session.sessionId,
      clusterId: input.clusterId,
      signal,
      read: () => virtualServiceStatus(ctx.db, input.clusterId),
    });
  }),
  create: operatorProcedure
    .input(z.object({ clusterId: zId, fields: zFields }))
    .mutation(({ ctx, input }) => createVirtualService(ctx.db, ctx.actor, ctx.meta, input.clusterId, input.fields)),
  update: operatorProcedure
    .input(zVersionedVirtualServiceRef.extend({ fields: zFields }))
    .mutation(({ ctx, input }) =>
      updateVirtualService(ctx.db, ctx.actor, ctx.meta, input.clusterId, input.id, input.version, input.fields),
    ),
  /** drains one real server or puts it back, in the draft */
  setRealServerState: operatorProcedure
    .input(zRealServerStateInput)
    .mutation(({ ctx, input }) => setRealServerState(ctx.db, ctx.actor, ctx.meta, input)),
  delete: operatorProcedure.input(zVersionedVirtualServiceRef).mutation(async ({ ctx, input }) => {
    await deleteVirtualService(ctx.db, ctx.actor, ctx.meta, input.clusterId, input.id, input.version);
    return { ok: true };
  }),
});
