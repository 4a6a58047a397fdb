import type { CommandResult, CommandRunner, RunOptions } from "../../agent/apply/runner";

/**
 * A scripted CommandRunner for unit tests: answers commands by the first handler whose prefix
 * matches, records every call, and fails loudly on a command nobody scripted.
 */
export type FakeReply = Partial<Pick<CommandResult, "code" | "stdout" | "stderr" | "timedOut">>;
type Handler = (args: readonly string[], opts: RunOptions) => FakeReply;

export interface FakeCall {
  args: string[];
  input: string | undefined;
}

export class FakeRunner implements CommandRunner {
  readonly calls: FakeCall[] = [];
  private readonly handlers: Array<{ prefix: readonly string[]; handler: Handler }> = [];

  /** Answers commands starting with prefix; later registrations win over earlier ones. */
  on(prefix: readonly string[], reply: FakeReply | Handler): this {
    this.handlers.unshift({ prefix, handler: typeof reply === "function" ? reply : () => reply });
    return this;
  }

  async run(args: readonly string[], opts: RunOptions = {}): Promise<CommandResult> {
    this.calls.push({ args: [...args], input: opts.input });
    const match = this.handlers.find((h) => h.prefix.every((p, i) => args[i] === p));
    if (match === undefined) throw new Error(`FakeRunner: unexpected command: ${args.join(" ")}`);
    const r = match.handler(args, opts);
    return {
      args,
      code: r.code ?? 0,
      stdout: r.stdout ?? "",
      stderr: r.stderr ?? "",
      timedOut: r.timedOut ?? false,
      durationMs: 0,
    };
  }

  /** The commands run so far, each joined with spaces. */
  commands(): string[] {
    return this.calls.map((c) => c.args.join(" "));
  }
}
