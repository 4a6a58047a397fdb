import type { Db } from "../../db";
import type { Isp, Pool, Zone } from "../../../core/policy/model";
import { getClusterOrThrow } from "../clusters/clusters";
import type { Versioned } from "./entities";
import { ispFromRow, poolFromRow, zoneFromRow } from "./rows";

/** ISPs, pools and zones are few per cluster: they are listed whole, in creation order. */
export async function listIsps(db: Db, clusterId: string): Promise<Versioned<Isp>[]> {
  await getClusterOrThrow(db, clusterId);
  const rows = await db.isp.findMany({ where: { clusterId }, orderBy: { seq: "asc" } });
  return rows.map((r) => ({ entity: ispFromRow(r), version: r.version }));
}

export async function listPools(db: Db, clusterId: string): Promise<Versioned<Pool>[]> {
  await getClusterOrThrow(db, clusterId);
  const rows = await db.pool.findMany({ where: { clusterId }, orderBy: { seq: "asc" } });
  return rows.map((r) => ({ entity: poolFromRow(r), version: r.version }));
}

export async function listZones(db: Db, clusterId: string): Promise<Versioned<Zone>[]> {
  await getClusterOrThrow(db, clusterId);
  const rows = await db.zone.findMany({ where: { clusterId }, orderBy: { seq: "asc" } });
  return rows.map((r) => ({ entity: zoneFromRow(r), version: r.version }));
}
