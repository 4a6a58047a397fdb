/**
 * SSH runs a command as one string through the remote login shell, so every argument vector is
 * turned into a string here and nowhere else. Arguments that contain anything but a small safe
 * set of characters are single-quoted (a quote inside becomes '\''), which a POSIX shell takes
 * literally: no expansion, globbing, redirection or command substitution survives.
 */

// no "=" (a leading NAME=value word would be an assignment), no "~" (tilde expansion)
const SAFE = /^[A-Za-z0-9_/.,:@%+-]+$/;

export class UnsafeArgumentError extends Error {
  override name = "UnsafeArgumentError";
}

export function shellQuote(arg: string): string {
  // a NUL cannot travel in a command line at all; refusing is the only safe answer
  if (arg.includes("\0")) throw new UnsafeArgumentError("an argument contains a NUL byte");
  if (SAFE.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** The command line that makes the remote shell run exactly `argv`. */
export function commandLine(argv: readonly string[]): string {
  if (argv.length === 0) throw new UnsafeArgumentError("an empty command");
  return argv.map(shellQuote).join(" ");
}
