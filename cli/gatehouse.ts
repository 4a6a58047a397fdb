import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { Command, CommanderError, Option } from "commander";
import { writePolicyDocument } from "../core/export/document";
import { emptyPolicy, IMPORT_FORMATS, ImportError, importPolicy, type LineResult } from "../core/import/index";
import { ApiError, type Client, makeClient } from "./client";

/**
 * The `gatehouse` command line: import, export, diff, apply, failover, restore and status against a
 * console, with an API token. `gatehouse import FILE --dry-run` without --cluster needs no console;
 * `--gateway NAME` says which gateway a keepalived.conf belongs to (its own VRRP values).
 *
 * Exit codes: 0 done; 1 failed (refused by the console, invalid input); 2 bad usage;
 * 3 the import needs answers or would leave problems; 4 the token was refused (401/403);
 * 5 the console cannot be reached.
 */

export const EXIT = { ok: 0, failed: 1, usage: 2, needsAnswers: 3, auth: 4, unreachable: 5 } as const;

class Exit extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export interface Io {
  out(text: string): void;
  err(text: string): void;
  env: Record<string, string | undefined>;
}

interface Globals {
  url?: string;
  token?: string;
  json?: boolean;
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new Exit(EXIT.usage, `cannot read ${path}: ${(e as Error).message}`);
  }
}

const STATUS_MARK: Record<LineResult["status"], string> = {
  imported: "+",
  merged: "=",
  ignored: " ",
  "not-imported": "!",
  question: "?",
};

function lineText(l: LineResult): string {
  const where = l.file && l.file !== "keepalived.conf" ? `${l.file}:${l.line}` : String(l.line);
  const changed = l.changed.length ? ` [changed: ${l.changed.join("; ")}]` : "";
  return `${STATUS_MARK[l.status]} ${where.padStart(5)}  ${l.message}${changed}`;
}

export function buildProgram(io: Io): Command {
  const program = new Command("gatehouse");
  const globals = (): Globals => program.opts<Globals>();
  const print = (value: unknown, text: () => string) =>
    io.out(globals().json ? JSON.stringify(value, null, 2) : text());

  function client(): Client {
    const url = globals().url ?? io.env.GATEHOUSE_URL;
    const token = globals().token ?? io.env.GATEHOUSE_TOKEN;
    if (!url) throw new Exit(EXIT.usage, "no console URL: pass --url or set GATEHOUSE_URL");
    if (!token) throw new Exit(EXIT.usage, "no API token: pass --token or set GATEHOUSE_TOKEN");
    return makeClient(url, token);
  }

  async function clusterId(c: Client, nameOrId: string): Promise<string> {
    const list = await c.query<Array<{ id: string; name: string }>>("cluster.list");
    const found = list.find((x) => x.name === nameOrId || x.id === nameOrId);
    if (!found) throw new Exit(EXIT.failed, `no cluster named ${nameOrId}`);
    return found.id;
  }

  async function ispId(c: Client, cluster: string, nameOrIface: string): Promise<string> {
    const isps = await c.query<Array<{ entity: { id: string; name: string; interface: string } }>>("isp.list", {
      clusterId: cluster,
    });
    const found = isps.find(
      (i) => i.entity.name === nameOrIface || i.entity.interface === nameOrIface || i.entity.id === nameOrIface,
    );
    if (!found) throw new Exit(EXIT.failed, `no ISP named ${nameOrIface} in this cluster`);
    return found.entity.id;
  }

  async function gatewayIdOf(c: Client, cluster: string, nameOrId: string): Promise<string> {
    const { gateways } = await c.query<{ gateways: Array<{ id: string; name: string }> }>("gateway.list", {
      clusterId: cluster,
    });
    const found = gateways.find((g) => g.name === nameOrId || g.id === nameOrId);
    if (!found) throw new Exit(EXIT.failed, `no gateway named ${nameOrId} in this cluster`);
    return found.id;
  }

  const answersOf = (list: string[] = []) =>
    Object.fromEntries(
      list.map((a) => {
        const eq = a.lastIndexOf("=");
        if (eq <= 0) throw new Exit(EXIT.usage, `--answer takes KEY=VALUE, got ${a}`);
        return [a.slice(0, eq), a.slice(eq + 1)];
      }),
    );

  program
    .description("Gatehouse: import, export and automate SNAT gateway cluster policies")
    .option("--url <url>", "console URL (or GATEHOUSE_URL)")
    .option("--token <token>", "API token (or GATEHOUSE_TOKEN)")
    .option("--json", "print JSON for scripts")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, "")), writeErr: (s) => io.err(s.replace(/\n$/, "")) });

  program
    .command("import")
    .description("import ipvsadm, iptables-save or keepalived.conf text into a cluster's draft")
    .argument("<file>", "the file to import")
    .option("--cluster <cluster>", "cluster name or id (without it, --dry-run reads the file locally)")
    .addOption(
      new Option("--format <format>", "the file's format (detected when not given)").choices([...IMPORT_FORMATS]),
    )
    .option("--dry-run", "show what would be imported, change nothing")
    .option("--answer <key=value...>", "answers to the import's questions")
    .option(
      "--gateway <gateway>",
      "keepalived: the gateway (name or id) whose file this is; its VRRP priority, LAN interface and own addresses go into its settings",
    )
    .action(
      async (
        file: string,
        o: {
          cluster?: string;
          format?: (typeof IMPORT_FORMATS)[number];
          dryRun?: boolean;
          answer?: string[];
          gateway?: string;
        },
      ) => {
        const text = readText(file);
        const answers = answersOf(o.answer);
        // includes are read from the file's own directory, and sent along to the console
        const dir = dirname(resolve(file));
        const files: Record<string, string> = {};
        const readInclude = (p: string) => {
          try {
            const content = readFileSync(join(dir, p), "utf8");
            files[p] = content;
            return content;
          } catch {
            return null;
          }
        };
        const fileName = relative(dir, resolve(file));
        let local: ReturnType<typeof importPolicy>;
        try {
          local = importPolicy(text, emptyPolicy(), {
            format: o.format,
            answers,
            // without a console the gateway is known by the name given
            ...(o.gateway === undefined ? {} : { gatewayId: o.gateway }),
            fileName,
            baseDir: ".",
            readFile: readInclude,
          });
        } catch (e) {
          if (e instanceof ImportError) throw new Exit(EXIT.failed, e.message);
          throw e;
        }
        if (o.gateway !== undefined && local.format !== "keepalived") {
          throw new Exit(
            EXIT.usage,
            `--gateway applies to keepalived.conf files only; this file reads as ${local.format}`,
          );
        }
        if (!o.cluster) {
          if (!o.dryRun) throw new Exit(EXIT.usage, "without --cluster only --dry-run is possible");
          print({ ...local, yaml: writePolicyDocument(local.policy) }, () =>
            [
              ...local.lines.map(lineText),
              ...local.notes.map((n) => `note: ${n}`),
              ...local.questions.map((q) => `question ${q.key}: ${q.prompt}`),
              ...local.problems.map((p) => `problem: ${p}`),
              "",
              writePolicyDocument(local.policy),
            ].join("\n"),
          );
          if (local.questions.length || local.problems.length) throw new Exit(EXIT.needsAnswers, "");
          return;
        }
        const c = client();
        const id = await clusterId(c, o.cluster);
        const gatewayId = o.gateway === undefined ? undefined : await gatewayIdOf(c, id, o.gateway);
        const input = { clusterId: id, text, format: o.format, fileName, files, answers, gatewayId };
        const preview = await c.mutate<{
          draftVersion: number;
          lines: LineResult[];
          questions: Array<{ key: string; prompt: string }>;
          problems: string[];
          warnings: string[];
          notes: string[];
          counts: Record<string, number>;
          blockers: string[];
        }>("import.preview", input);
        const summary = `adds ${preview.counts.isps} ISP(s), ${preview.counts.pools} pool(s), ${preview.counts.zones} zone(s), ${preview.counts.rules} rule(s), ${preview.counts.virtualServices ?? 0} virtual service(s)${preview.counts.haSettings ? ", HA settings" : ""}`;
        if (o.dryRun || preview.blockers.length) {
          print(preview, () =>
            [
              ...preview.lines.map(lineText),
              ...preview.notes.map((n) => `note: ${n}`),
              ...preview.questions.map((q) => `question ${q.key}: ${q.prompt}`),
              ...preview.warnings.map((w) => `warning: ${w}`),
              summary,
              ...preview.blockers.map((b) => `cannot add: ${b}`),
            ].join("\n"),
          );
          if (preview.blockers.length) throw new Exit(EXIT.needsAnswers, "");
          return;
        }
        const added = await c.mutate<{ draftVersion: number; added: Record<string, number> }>("import.add", {
          ...input,
          draftVersion: preview.draftVersion,
        });
        print(
          added,
          () => `${preview.lines.map(lineText).join("\n")}\nadded to the draft: ${summary.slice(5)} (not published)`,
        );
      },
    );

  program
    .command("export")
    .description("export a revision (or the draft) as yaml, iptables, ipvsadm or keepalived text")
    .requiredOption("--cluster <cluster>", "cluster name or id")
    .option("--revision <n>", "revision number (default: the draft)")
    .addOption(
      new Option("--format <format>", "output format")
        .choices(["yaml", "iptables", "ipvsadm", "keepalived"])
        .default("yaml"),
    )
    .action(async (o: { cluster: string; revision?: string; format: string }) => {
      const c = client();
      const id = await clusterId(c, o.cluster);
      const revision = o.revision === undefined ? "draft" : Number(o.revision);
      if (revision !== "draft" && !Number.isInteger(revision)) throw new Exit(EXIT.usage, "--revision takes a number");
      const out = await c.query<{ text: string; notExpressible: string[] }>("export.policy", {
        clusterId: id,
        revision,
        format: o.format,
      });
      print(out, () => out.text.replace(/\n$/, ""));
      if (!globals().json) for (const n of out.notExpressible) io.err(`not exported: ${n}`);
    });

  program
    .command("diff")
    .description("what the draft changes against the published revision, or what applying a file would change")
    .requiredOption("--cluster <cluster>", "cluster name or id")
    .option("-f, --file <file>", "a YAML policy document")
    .action(async (o: { cluster: string; file?: string }) => {
      const c = client();
      const id = await clusterId(c, o.cluster);
      const result = o.file
        ? await c.mutate<{ summary: { total: number; added: number; removed: number; changed: number } }>(
            "document.plan",
            {
              clusterId: id,
              yaml: readText(o.file),
            },
          )
        : await c.query<{ summary: { total: number; added: number; removed: number; changed: number } }>(
            "draft.changes",
            {
              clusterId: id,
            },
          );
      print(result, () => describeChanges(result));
    });

  program
    .command("apply")
    .description("make the draft match a YAML policy document, print the plan, optionally publish")
    .requiredOption("-f, --file <file>", "the YAML policy document")
    .option("--cluster <cluster>", "cluster name or id (default: the document's cluster)")
    .option("--publish", "publish the draft afterwards")
    .option("-m, --message <message>", "revision message when publishing", "applied with the gatehouse command line")
    .option("--dry-run", "print the plan only")
    .action(async (o: { file: string; cluster?: string; publish?: boolean; message: string; dryRun?: boolean }) => {
      const yaml = readText(o.file);
      const named = /^cluster:\s*(\S+)\s*$/m.exec(yaml)?.[1];
      const target = o.cluster ?? named;
      if (!target) throw new Exit(EXIT.usage, "no cluster: pass --cluster or name it in the document");
      const c = client();
      const id = await clusterId(c, target);
      const plan = await c.mutate<{
        draftVersion: number;
        summary: { total: number; added: number; removed: number; changed: number };
      }>("document.plan", { clusterId: id, yaml });
      let written = false;
      if (!o.dryRun && plan.summary.total > 0) {
        await c.mutate("document.write", { clusterId: id, yaml, draftVersion: plan.draftVersion });
        written = true;
      }
      let published: number | null = null;
      if (o.publish && !o.dryRun) {
        const s = await c.query<{ draftVersion: number; dirty: boolean }>("draft.summary", { clusterId: id });
        if (s.dirty) {
          const r = await c.mutate<{ number: number }>("draft.publish", {
            clusterId: id,
            message: o.message,
            draftVersion: s.draftVersion,
          });
          published = r.number;
        }
      }
      print({ ...plan, written, published }, () =>
        [
          describeChanges(plan),
          o.dryRun
            ? "dry run: nothing changed"
            : written
              ? "the draft now matches the file"
              : "the draft already matches the file",
          published !== null ? `published revision ${published}` : "",
        ]
          .filter(Boolean)
          .join("\n"),
      );
    });

  for (const verb of ["failover", "restore"] as const) {
    const cmd = program
      .command(verb)
      .description(verb === "failover" ? "move an ISP's traffic to a backup" : "bring a failed-over ISP back")
      .requiredOption("--cluster <cluster>", "cluster name or id")
      .requiredOption("--isp <isp>", "ISP name or interface");
    if (verb === "failover") cmd.option("--backup <isp>", "the backup ISP (default: the first healthy one)");
    cmd.action(async (o: { cluster: string; isp: string; backup?: string }) => {
      const c = client();
      const id = await clusterId(c, o.cluster);
      const isp = await ispId(c, id, o.isp);
      const input =
        verb === "failover"
          ? { clusterId: id, ispId: isp, backupIspId: o.backup ? await ispId(c, id, o.backup) : null }
          : { clusterId: id, ispId: isp };
      const r = await c.mutate<unknown>(`failover.${verb}`, input);
      print(r, () => `${verb === "failover" ? "failed over" : "restored"} ${o.isp}`);
    });
  }

  program
    .command("status")
    .description("the clusters, or one cluster's draft and published revision")
    .option("--cluster <cluster>", "cluster name or id")
    .action(async (o: { cluster?: string }) => {
      const c = client();
      if (!o.cluster) {
        const list = await c.query<Array<{ id: string; name: string }>>("cluster.list");
        print(list, () => list.map((x) => `${x.name}  ${x.id}`).join("\n") || "no clusters");
        return;
      }
      const id = await clusterId(c, o.cluster);
      const s = await c.query<{
        draftVersion: number;
        publishedRevision: number;
        dirty: boolean;
        summary: { total: number };
      }>("draft.summary", { clusterId: id });
      print(
        s,
        () =>
          `published revision ${s.publishedRevision}; draft ${s.dirty ? `has ${s.summary.total} unpublished change(s)` : "is the published revision"}`,
      );
    });

  return program;
}

function describeChanges(r: { summary: { total: number; added: number; removed: number; changed: number } }) {
  const s = r.summary;
  return s.total === 0
    ? "no changes"
    : `${s.total} change(s): ${s.added} added, ${s.changed} changed, ${s.removed} removed`;
}

/** Runs the command line; returns the exit code instead of exiting, so tests can run it in-process too. */
export async function run(argv: string[], io: Io): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: "user" });
    return EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.code === "commander.helpDisplayed" || e.code === "commander.version" ? EXIT.ok : EXIT.usage;
    }
    if (e instanceof Exit) {
      if (e.message) io.err(`gatehouse: ${e.message}`);
      return e.code;
    }
    if (e instanceof ApiError) {
      io.err(`gatehouse: ${e.message}`);
      if (e.status === 0) return EXIT.unreachable;
      if (e.status === 401 || e.status === 403) return EXIT.auth;
      return EXIT.failed;
    }
    io.err(`gatehouse: ${(e as Error).message}`);
    return EXIT.failed;
  }
}
