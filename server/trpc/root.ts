import { createCallerFactory, router } from "./init";
import { alertRouter } from "./routers/alerts";
import { auditRouter } from "./routers/audit";
import { authRouter } from "./routers/auth";
import { clusterRouter } from "./routers/clusters";
import { draftRouter, revisionRouter } from "./routers/draft";
import { failoverRouter } from "./routers/failover";
import { gatewayRouter } from "./routers/gateways";
import { poolUsageRouter } from "./routers/pool-usage";
import { gatewaySshRouter } from "./routers/gateway-ssh";
import { documentRouter } from "./routers/document";
import { exportRouter } from "./routers/export";
import { importRouter } from "./routers/import";
import { ispRouter, poolRouter, zoneRouter } from "./routers/policy";
import { ruleRouter } from "./routers/rules";
import { tokenRouter } from "./routers/tokens";
import { userRouter } from "./routers/users";
import { virtualServiceRouter } from "./routers/virtual-services";

export const appRouter = router({
  auth: authRouter,
  user: userRouter,
  cluster: clusterRouter,
  isp: ispRouter,
  pool: poolRouter,
  zone: zoneRouter,
  rule: ruleRouter,
  virtualService: virtualServiceRouter,
  draft: draftRouter,
  revision: revisionRouter,
  audit: auditRouter,
  gateway: gatewayRouter,
  failover: failoverRouter,
  poolUsage: poolUsageRouter,
  gatewaySsh: gatewaySshRouter,
  import: importRouter,
  export: exportRouter,
  document: documentRouter,
  token: tokenRouter,
  alert: alertRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
