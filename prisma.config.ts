import { defineConfig } from "prisma/config";

// The CLI would download its schema engine; generate/validate/format do not need it, and
// migrations are applied by server/db/migrate.ts, so point it at a binary that is always there.
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= "/bin/false";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
});
