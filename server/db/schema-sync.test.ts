import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { GENERATED_HEADER, toPostgresSchema } from "../../scripts/db/postgres-schema";
import { SCHEMA_FILES } from "./migration-files";

describe("prisma/postgres/schema.prisma", () => {
  it("is exactly what `npm run db:schema` generates from prisma/schema.prisma", () => {
    const expected = toPostgresSchema(readFileSync(SCHEMA_FILES.sqlite, "utf8"));
    const committed = readFileSync(SCHEMA_FILES.postgresql, "utf8");
    // on failure: run `npm run db:schema` (and `npm run db:migration <name>` if models changed)
    expect(committed).toBe(expected);
  });
});

describe("toPostgresSchema", () => {
  const source = `// the model
generator client {
  provider     = "prisma-client"
  output       = "./generated/sqlite"
  moduleFormat = "esm"
}

datasource db {
  provider = "sqlite"
}

model Thing {
  id       String @id
  provider String @default("sqlite") // a field that happens to be called provider
}
`;

  it("changes only the provider and the client output, and says it is generated", () => {
    const out = toPostgresSchema(source);
    expect(out.startsWith(GENERATED_HEADER)).toBe(true);
    const body = out.slice(GENERATED_HEADER.length);
    expect(body).toBe(
      source
        .replace('output       = "./generated/sqlite"', 'output       = "../generated/postgres"')
        .replace('datasource db {\n  provider = "sqlite"', 'datasource db {\n  provider = "postgresql"'),
    );
    expect(body).toContain('provider String @default("sqlite")');
  });

  it("refuses native type attributes, which mean different things per provider", () => {
    expect(() => toPostgresSchema(source.replace("id       String @id", "id String @id @db.Text"))).toThrow(
      /native type/,
    );
  });

  it("refuses a source that is not SQLite", () => {
    expect(() => toPostgresSchema(source.replace('provider = "sqlite"', 'provider = "mysql"'))).toThrow(/sqlite/);
  });
});
