import {describe, expect, it} from "vitest";
import type {ParsedArgs} from "../../../src/cli/args.js";
import {CommandError} from "../../../src/cli/errors.js";
import {type CliIo, type CommandHandler, type CommandTable, runCli} from "../../../src/cli/run.js";
import {ConfigError} from "../../../src/config/index.js";

function testIo(): CliIo & {out: string[]; err: string[]} {
  const out: string[] = [];
  const err: string[] = [];
  return {out, err, stdout: (l) => out.push(l), stderr: (l) => err.push(l), env: {}, cwd: "/"};
}

function table(handler: CommandHandler): CommandTable & {calls: ParsedArgs[]} {
  const calls: ParsedArgs[] = [];
  const wrapped: CommandHandler = (args, io) => {
    calls.push(args);
    return handler(args, io);
  };
  const load = (): Promise<CommandHandler> => Promise.resolve(wrapped);
  return {calls, start: load, keygen: load, id: load, record: load, devnet: load, audit: load, status: load, client: load};
}

describe("runCli", () => {
  it("dispatches to the named command with its parsed args", async () => {
    const commands = table(() => Promise.resolve(0));
    const io = testIo();
    expect(await runCli(["id", "--full", "--data-dir", "/x"], io, commands)).toBe(0);
    expect(commands.calls).toEqual([{command: "id", helpTopic: null, full: true, options: {full: true}, flags: {"data-dir": "/x"}}]);
  });

  it("hands the words after `client` to the client command unparsed (its flags are not config flags)", async () => {
    const commands = table(() => Promise.resolve(0));
    expect(await runCli(["client", "store", "--seed", "a", "--seed", "b", "--json"], testIo(), commands)).toBe(0);
    expect(commands.calls).toEqual([
      {command: "client", helpTopic: null, full: false, options: {}, flags: {}, rest: ["store", "--seed", "a", "--seed", "b", "--json"]},
    ]);
  });

  it("returns the command's exit code", async () => {
    expect(await runCli(["start"], testIo(), table(() => Promise.resolve(1)))).toBe(1);
  });

  it("prints help to stdout without loading any command", async () => {
    const commands = table(() => Promise.resolve(0));
    const io = testIo();
    expect(await runCli(["help"], io, commands)).toBe(0);
    expect(io.out.join("\n")).toContain("Usage: pars-storage <command>");
    expect(commands.calls).toEqual([]);
  });

  it("exits 2 with all usage problems and no stack", async () => {
    const io = testIo();
    expect(await runCli(["start", "--nope", "--worse"], io, table(() => Promise.resolve(0)))).toBe(2);
    expect(io.err).toEqual([
      [
        "pars-storage: 2 usage problems:",
        "  - unknown flag --nope",
        "  - unknown flag --worse",
        'Run "pars-storage help" for usage.',
      ].join("\n"),
    ]);
  });

  it("exits 2 on a config error", async () => {
    const io = testIo();
    const failing = table(() =>
      Promise.reject(new ConfigError([{source: "flag", origin: "--http-port", path: "http.port", message: "bad"}])),
    );
    expect(await runCli(["start"], io, failing)).toBe(2);
    expect(io.err[0]).toContain("flag --http-port: http.port: bad");
    expect(io.err[0]).not.toContain("    at ");
  });

  it("exits 1 with the message only for expected failures, with the stack for bugs", async () => {
    const expected = testIo();
    const missingKey = table(() => Promise.reject(new CommandError("no node identity in /k")));
    expect(await runCli(["id"], expected, missingKey)).toBe(1);
    expect(expected.err).toEqual(["pars-storage: no node identity in /k"]);

    const bug = testIo();
    expect(await runCli(["start"], bug, table(() => Promise.reject(new TypeError("boom"))))).toBe(1);
    expect(bug.err[0]).toMatch(/^pars-storage: unexpected error: TypeError: boom\n\s+at /);
  });

  it("treats Node system errors (EADDRINUSE, EACCES) as expected", async () => {
    const io = testIo();
    const inUse = Object.assign(new Error("listen EADDRINUSE: address already in use 127.0.0.1:22025"), {
      code: "EADDRINUSE",
      syscall: "listen",
    });
    expect(await runCli(["start"], io, table(() => Promise.reject(inUse)))).toBe(1);
    expect(io.err).toEqual(["pars-storage: listen EADDRINUSE: address already in use 127.0.0.1:22025"]);
  });
});
