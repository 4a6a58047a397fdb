import { z } from "zod";
import { zId } from "../../../core/policy/model";
import type { EntityKind, FIELD_SCHEMAS } from "../../../core/policy/entities";
import { createEntity, deleteEntity, entityDependents, getEntity, updateEntity } from "../../services/draft/entities";
import { operatorProcedure, router, viewerProcedure } from "../init";

const zRef = z.object({ clusterId: zId, id: zId });
const zVersionedRef = zRef.extend({ version: z.number().int().min(1) });

/**
 * get/create/update/delete of one draft entity kind. Field values are checked by the service
 * with the model's schemas, so the API and the UI forms give the same messages.
 */
export function entityProcedures<K extends EntityKind>(kind: K) {
  // typed for callers as the kind's fields; checked by the service, which words the messages
  const zFields = z.custom<z.input<(typeof FIELD_SCHEMAS)[K]>>(() => true);
  return {
    get: viewerProcedure.input(zRef).query(({ ctx, input }) => getEntity(ctx.db, kind, input.clusterId, input.id)),
    dependents: viewerProcedure
      .input(zRef)
      .query(({ ctx, input }) => entityDependents(ctx.db, kind, input.clusterId, input.id)),
    create: operatorProcedure
      .input(z.object({ clusterId: zId, fields: zFields }))
      .mutation(({ ctx, input }) => createEntity(ctx.db, ctx.actor, ctx.meta, kind, input.clusterId, input.fields)),
    update: operatorProcedure
      .input(zVersionedRef.extend({ fields: zFields }))
      .mutation(({ ctx, input }) =>
        updateEntity(ctx.db, ctx.actor, ctx.meta, kind, input.clusterId, input.id, input.version, input.fields),
      ),
    delete: operatorProcedure.input(zVersionedRef).mutation(async ({ ctx, input }) => {
      await deleteEntity(ctx.db, ctx.actor, ctx.meta, kind, input.clusterId, input.id, input.version);
      return { ok: true };
    }),
  };
}

export const zClusterRef = z.object({ clusterId: zId });
export { router };
