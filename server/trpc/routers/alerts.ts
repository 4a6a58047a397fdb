import { z } from "zod";
import { zChannelCreate, zChannelUpdate } from "../../../core/alerts/channel";
import { zId } from "../../../core/policy/model";
import { createChannel, deleteChannel, listChannels, updateChannel } from "../../services/alerts/channels";
import { sendTestMessage } from "../../services/alerts/deliver";
import { listIncidents } from "../../services/alerts/history";
import { adminProcedure, router, viewerProcedure } from "../init";

const zCluster = z.object({ clusterId: zId });

export const alertRouter = router({
  channels: viewerProcedure.input(zCluster).query(({ ctx, input }) => listChannels(ctx.db, input.clusterId)),
  incidents: viewerProcedure.input(zCluster).query(({ ctx, input }) => listIncidents(ctx.db, input.clusterId)),
  createChannel: adminProcedure
    .input(zChannelCreate)
    .mutation(({ ctx, input }) => createChannel(ctx.db, ctx.actor, ctx.meta, input)),
  updateChannel: adminProcedure
    .input(zChannelUpdate)
    .mutation(({ ctx, input }) => updateChannel(ctx.db, ctx.actor, ctx.meta, input)),
  deleteChannel: adminProcedure
    .input(z.object({ id: zId, version: z.number().int().min(1) }))
    .mutation(({ ctx, input }) => deleteChannel(ctx.db, ctx.actor, ctx.meta, input)),
  /** one test message through the channel now; its outcome, also kept on the channel */
  testChannel: adminProcedure
    .input(z.object({ id: zId }))
    .mutation(({ ctx, input }) => sendTestMessage(ctx.db, ctx.actor, ctx.meta, input.id)),
});
