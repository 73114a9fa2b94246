import {describe, expect, it} from "vitest";
import {parseCliArgs} from "../../../src/cli/args.js";

function usageProblems(argv: string[]): readonly string[] {
  try {
    parseCliArgs(argv);
  } catch (e) {
    const err = e as {code: string; type: {problems: readonly string[]}};
    expect(err.code).toBe("CLI_ERROR_USAGE");
    return err.type.problems;
  }
  throw new Error("expected a UsageError");
}

describe("parseCliArgs", () => {
  it("parses a command with aliases, dotted flags, = and space forms", () => {
    const args = parseCliArgs([
      "start",
      "--data-dir",
      "/d",
      "--http-port=8080",
      "--storage.sizeLimitBytes=1000",
      "--rateLimit.enabled=false",
      "--log.pretty",
      "--network",
      "testnet",
      "--config",
      "c.json",
    ]);
    expect(args).toEqual({
      command: "start",
      helpTopic: null,
      full: false,
      options: {},
      flags: {
        "data-dir": "/d",
        "http-port": "8080",
        "storage.sizeLimitBytes": "1000",
        "rateLimit.enabled": "false",
        "log.pretty": true,
        network: "testnet",
        config: "c.json",
      },
    });
  });

  it("accepts flags before the command, keeps the last of repeated flags, and negative values", () => {
    const args = parseCliArgs(["--bind", "0.0.0.0", "keygen", "--bind", "::1", "--signing.maxBatchDelayMs", "-1"]);
    expect(args.command).toBe("keygen");
    expect(args.flags).toEqual({bind: "::1", "signing.maxBatchDelayMs": "-1"});
  });

  it("does not consume the next token for a boolean flag", () => {
    expect(() => parseCliArgs(["start", "--log.pretty", "true"])).toThrow(/unexpected argument: true/);
  });

  it("parses id --full", () => {
    expect(parseCliArgs(["id", "--full"]).full).toBe(true);
    expect(parseCliArgs(["id"]).full).toBe(false);
  });

  it("lists every unknown flag and other problems together", () => {
    expect(usageProblems(["start", "--nope", "--http.prot=1", "-x", "--port", "1", "extra"])).toEqual([
      "unknown flag --nope",
      "unknown flag --http.prot",
      "unknown flag -x",
      "unknown flag --port",
      "unexpected arguments: 1 extra",
    ]);
  });

  it("reports unknown and missing commands and values", () => {
    expect(usageProblems(["serve"])).toEqual(['unknown command "serve"']);
    expect(usageProblems([])).toEqual(["missing command"]);
    expect(usageProblems(["start", "--http-port"])).toEqual(["flag --http-port needs a value"]);
    expect(usageProblems(["start", "--data-dir", "--bind", "x"])).toEqual(["flag --data-dir needs a value"]);
    expect(usageProblems(["start", "--full"])).toEqual(["--full only applies to the id command"]);
  });

  it("treats everything after -- as positional", () => {
    expect(usageProblems(["start", "--", "--bind"])).toEqual(["unexpected argument: --bind"]);
  });

  it("routes help in all its forms", () => {
    expect(parseCliArgs(["help"])).toMatchObject({command: "help", helpTopic: null});
    expect(parseCliArgs(["help", "id"])).toMatchObject({command: "help", helpTopic: "id"});
    expect(parseCliArgs(["--help"])).toMatchObject({command: "help", helpTopic: null});
    expect(parseCliArgs(["keygen", "-h"])).toMatchObject({command: "help", helpTopic: "keygen"});
    // --help wins over other problems
    expect(parseCliArgs(["start", "--bogus", "--help"])).toMatchObject({command: "help", helpTopic: "start"});
    expect(usageProblems(["help", "nope"])).toEqual(['unknown command "nope"']);
  });
});
