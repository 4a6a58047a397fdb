import { z } from "zod";
import { appRouter } from "../trpc/root";

/**
 * The OpenAPI document of the public procedures, for people who do not use tRPC. It describes
 * the real wire of /api/trpc as scripts call it with an API token: a query is
 * `GET /api/trpc/<path>?input=<url-encoded {"json": INPUT}>`, a mutation is
 * `POST /api/trpc/<path>` with the body `{"json": INPUT}`; the answer is
 * `{"result": {"data": {"json": OUTPUT}}}` or `{"error": {"json": {"message", "code", "data"}}}`.
 * Input schemas come from the procedures' own zod schemas (z.toJSONSchema), so they cannot drift.
 */

export const PUBLIC_PROCEDURES: Record<string, string> = {
  "cluster.list": "The clusters",
  "cluster.get": "One cluster",
  "gateway.list": "The gateways of a cluster (names and ids, for import --gateway)",
  "draft.summary": "Whether the draft differs from the published revision",
  "draft.changes": "Every draft change in words, and the problems that block publishing",
  "draft.publish": "Publishes the draft as the next revision (operator)",
  "revision.list": "The published revisions",
  "export.policy": "A revision or the draft as yaml, iptables, ipvsadm or keepalived text",
  "import.preview": "What importing configuration text would add to the draft, line by line (operator)",
  "import.add": "Adds the import to the draft at the previewed draft version (operator)",
  "document.plan": "What making the draft match a YAML policy document would change (operator)",
  "document.write": "Makes the draft match a YAML policy document (operator)",
  "failover.overview": "Health and failover state of every ISP",
  "failover.failover": "Fails an ISP over to a backup (operator)",
  "failover.restore": "Restores a failed-over ISP (operator)",
};

type ProcDef = { _def: { type: string; inputs: unknown[] } };

function inputSchema(proc: ProcDef): Record<string, unknown> {
  const schema = proc._def.inputs[0];
  if (!(schema instanceof z.ZodType)) return { type: "object" };
  return z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
}

const ERROR = {
  description: "An error: 400 invalid input, 401 no or bad token, 403 role too low, 404 not found, 409 conflict",
  content: {
    "application/json": {
      schema: {
        type: "object",
        properties: {
          error: {
            type: "object",
            properties: {
              json: {
                type: "object",
                properties: { message: { type: "string" }, code: { type: "number" }, data: { type: "object" } },
              },
            },
          },
        },
      },
    },
  },
};

export function openApiDocument(serverUrl = "/") {
  const procedures = appRouter._def.procedures as unknown as Record<string, ProcDef>;
  const paths: Record<string, unknown> = {};
  for (const [path, summary] of Object.entries(PUBLIC_PROCEDURES)) {
    const proc = procedures[path];
    if (!proc) continue;
    const input = { type: "object", properties: { json: inputSchema(proc) }, required: ["json"] };
    const ok = {
      description: "The result",
      content: {
        "application/json": {
          schema: {
            type: "object",
            properties: {
              result: { type: "object", properties: { data: { type: "object", properties: { json: {} } } } },
            },
          },
        },
      },
    };
    const common = { operationId: path, summary, tags: [path.split(".")[0]], responses: { "200": ok, default: ERROR } };
    paths[`/api/trpc/${path}`] =
      proc._def.type === "query"
        ? {
            get: {
              ...common,
              parameters: [
                {
                  name: "input",
                  in: "query",
                  required: false,
                  description: 'URL-encoded JSON {"json": INPUT}',
                  content: { "application/json": { schema: input } },
                },
              ],
            },
          }
        : { post: { ...common, requestBody: { required: true, content: { "application/json": { schema: input } } } } };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Gatehouse API",
      version: "1",
      description:
        'Send `Authorization: Bearer TOKEN` with an API token an admin created on the Users page. Inputs and outputs are wrapped in {"json": ...}.',
    },
    servers: [{ url: serverUrl }],
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
    security: [{ bearer: [] }],
    paths,
  };
}
