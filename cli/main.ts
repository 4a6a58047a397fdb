import { run } from "./gatehouse";

// the command line's only reader of the environment: the console URL and token
const code = await run(process.argv.slice(2), {
  out: (s) => process.stdout.write(`${s}\n`),
  err: (s) => process.stderr.write(`${s}\n`),
  env: { GATEHOUSE_URL: process.env.GATEHOUSE_URL, GATEHOUSE_TOKEN: process.env.GATEHOUSE_TOKEN },
});
process.exitCode = code;
