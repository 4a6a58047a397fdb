import { describe, expect, it } from "vitest";
import { appRouter } from "../trpc/root";
import { openApiDocument, PUBLIC_PROCEDURES } from "./openapi";

describe("the OpenAPI document", () => {
  it("describes every public procedure with its input schema and the bearer scheme", () => {
    const doc = openApiDocument();
    const procedures = appRouter._def.procedures as Record<string, unknown>;
    for (const p of Object.keys(PUBLIC_PROCEDURES)) expect(procedures[p], p).toBeDefined();
    expect(Object.keys(doc.paths)).toHaveLength(Object.keys(PUBLIC_PROCEDURES).length);
    const preview = doc.paths["/api/trpc/import.preview"] as {
      post: {
        requestBody: {
          content: Record<string, { schema: { properties: { json: { properties: Record<string, unknown> } } } }>;
        };
      };
    };
    const input = preview.post.requestBody.content["application/json"]?.schema.properties.json.properties;
    expect(Object.keys(input ?? {})).toEqual(expect.arrayContaining(["clusterId", "text", "format", "answers"]));
    const list = doc.paths["/api/trpc/cluster.list"] as { get: unknown };
    expect(list.get).toBeDefined();
    expect(doc.components.securitySchemes.bearer.scheme).toBe("bearer");
    expect(JSON.stringify(doc)).not.toMatch(/undefined/);
  });
});
