import { describe, expect, it } from "vitest";
import { parseCommand, UsageError } from "./args";

describe("parseCommand", () => {
  it("parses each command with its options and defaults", () => {
    expect(
      parseCommand(["enroll", "--console", "https://c.example", "--token", "ghe_x", "--state-dir", "/tmp/s"]),
    ).toEqual({
      name: "enroll",
      consoleUrl: "https://c.example",
      token: "ghe_x",
      tokenFile: null,
      stateDir: "/tmp/s",
      logLevel: "info",
    });
    expect(parseCommand(["enroll", "--console", "https://c.example", "--token-file", "/run/t"])).toMatchObject({
      token: null,
      tokenFile: "/run/t",
    });
    expect(parseCommand(["run", "--log-level", "debug"])).toEqual({
      name: "run",
      stateDir: "/var/lib/gatehouse-agent",
      logLevel: "debug",
      netns: null,
      metricsListen: null,
    });
    expect(parseCommand(["run", "--metrics-listen", "127.0.0.1:9464"])).toMatchObject({
      metricsListen: { host: "127.0.0.1", port: 9464 },
    });
    expect(parseCommand(["run", "--netns", "gh-1a2b3c-gw1"])).toMatchObject({ name: "run", netns: "gh-1a2b3c-gw1" });
    expect(parseCommand(["render", "--spec", "s.json"])).toMatchObject({ name: "render", specFile: "s.json" });
    expect(parseCommand(["apply", "--spec=s.json"])).toMatchObject({ name: "apply", specFile: "s.json" });
    expect(parseCommand(["status", "--json"])).toMatchObject({ name: "status", json: true });
    expect(parseCommand([])).toEqual({ name: "help" });
    expect(parseCommand(["run", "--help"])).toEqual({ name: "help" });
    expect(parseCommand(["version"])).toEqual({ name: "version" });
  });

  it.each([
    [["frobnicate"], /unknown command "frobnicate"/],
    [["enroll", "--console", "https://c"], /enroll needs either --token or --token-file/],
    [["enroll", "--console", "https://c", "--token", "a", "--token-file", "f"], /either --token or --token-file/],
    [["enroll", "--token", "t"], /enroll needs --console/],
    [["render"], /render needs --spec/],
    [["run", "--metrics-listen", "9464"], /--metrics-listen must be ADDRESS:PORT/],
    [["run", "--metrics-listen", "127.0.0.1:0"], /--metrics-listen must be ADDRESS:PORT/],
    [["run", "--metrics-listen", "127.0.0.300:9464"], /--metrics-listen must be ADDRESS:PORT/],
    [["run", "--metrics-listen", "example.org:9464"], /--metrics-listen must be ADDRESS:PORT/],
    [["cleanup", "--metrics-listen", "127.0.0.1:9464"], /cleanup does not take --metrics-listen/],
    [["run", "--spec", "x"], /run does not take --spec/],
    [["run", "--bogus"], /Unknown option/],
    [["run", "extra"], /unexpected argument "extra"/],
    [["run", "--log-level", "loud"], /--log-level must be one of/],
    [["run", "--netns", "../x"], /--netns must be a network namespace name/],
    [["apply", "--spec", "s.json", "--netns", "gw"], /apply does not take --netns/],
  ])("refuses %j", (argv, message) => {
    expect(() => parseCommand(argv)).toThrow(UsageError);
    expect(() => parseCommand(argv)).toThrow(message);
  });
});
