import {EventEmitter} from "node:events";
import {pino} from "pino";
import {describe, expect, it} from "vitest";
import {installCrashHandlers, onShutdownSignal} from "../../../src/cli/process.js";
import {silentLogger} from "../../utils/logger.js";

function fakeProcess(): EventEmitter & {exits: number[]; exit(code: number): void} {
  const emitter = new EventEmitter() as EventEmitter & {exits: number[]; exit(code: number): void};
  emitter.exits = [];
  emitter.exit = (code) => emitter.exits.push(code);
  return emitter;
}


describe("onShutdownSignal", () => {
  it("resolves on the first signal and forces exit 1 on the second", async () => {
    const proc = fakeProcess();
    const shutdown = onShutdownSignal(silentLogger, proc);
    proc.emit("SIGTERM", "SIGTERM");
    expect(await shutdown.received).toBe("SIGTERM");
    expect(proc.exits).toEqual([]);
    proc.emit("SIGINT", "SIGINT");
    expect(proc.exits).toEqual([1]);
    shutdown.dispose();
    expect(proc.listenerCount("SIGINT") + proc.listenerCount("SIGTERM")).toBe(0);
  });
});

describe("installCrashHandlers", () => {
  it("logs fatal and exits 1 on an uncaught exception or unhandled rejection", () => {
    const proc = fakeProcess();
    const lines: string[] = [];
    const logger = pino({level: "info"}, {write: (line: string) => lines.push(line)});
    const uninstall = installCrashHandlers(logger, proc);
    proc.emit("uncaughtException", new Error("kaboom"));
    proc.emit("unhandledRejection", new Error("nope"), Promise.resolve());
    expect(proc.exits).toEqual([1, 1]);
    const logged = lines.map((l) => JSON.parse(l) as {level: number; msg: string; err: {message: string}});
    expect(logged.map((l) => [l.level, l.msg, l.err.message])).toEqual([
      [60, "Uncaught exception", "kaboom"],
      [60, "Unhandled promise rejection", "nope"],
    ]);
    uninstall();
    expect(proc.listenerCount("uncaughtException")).toBe(0);
  });
});
