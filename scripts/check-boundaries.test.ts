import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { browserServerImports, checkBoundaries } from "./check-boundaries";

const root = fileURLToPath(new URL("..", import.meta.url));

describe("layer boundaries", () => {
  it("hold in this tree", () => {
    expect(checkBoundaries(root)).toEqual([]);
  });

  it("refuse browser code that takes values from server/", () => {
    const page = "app/(console)/x/page.tsx";
    expect(browserServerImports(page, 'import { db } from "@/server/db";\n')).toMatchObject([
      { line: 1, specifier: "@/server/db" },
    ]);
    expect(browserServerImports(page, 'import x from "../../../server/env";')).toHaveLength(1);
    expect(browserServerImports(page, 'const m = await import("@/server/db");')).toHaveLength(1);
    expect(browserServerImports(page, 'import { type A, b } from "@/server/trpc/root";')).toHaveLength(1);
  });

  it("allow types, core/, tests and the HTTP mounts", () => {
    const page = "app/(console)/x/page.tsx";
    expect(browserServerImports(page, 'import type { AppRouter } from "@/server/trpc/root";')).toEqual([]);
    expect(browserServerImports(page, 'import { type A, type B as C } from "@/server/x";')).toEqual([]);
    expect(browserServerImports(page, 'import { zPool } from "@/core/policy/model";')).toEqual([]);
    expect(browserServerImports("app/x/present.test.ts", 'import { db } from "@/server/db";')).toEqual([]);
    expect(browserServerImports("app/api/trpc/route.ts", 'import { db } from "@/server/db";')).toEqual([]);
  });
});
