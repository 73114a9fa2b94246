import {describe, expect, it} from "vitest";
import {loadConfig} from "../../../src/config/index.js";
import {metricsPort} from "../../../src/node/assemble-metrics.js";

const config = (flags: Record<string, string>, env: Record<string, string> = {}): ReturnType<typeof loadConfig> =>
  loadConfig({flags: {"data-dir": "/tmp/x", ...flags}, env});

describe("metrics.port", () => {
  it("defaults to the RPC port + 1000, or a free port when the RPC port is picked freely", () => {
    expect(metricsPort(config({}))).toBe(23025);
    expect(metricsPort(config({"http-port": "22031"}))).toBe(23031);
    expect(metricsPort(config({"http-port": "0"}))).toBe(0);
  });

  it("takes a number (or null) from flags and env vars", () => {
    expect(metricsPort(config({"metrics.port": "9464"}))).toBe(9464);
    expect(metricsPort(config({}, {PARS_STORAGE_METRICS_PORT: "9465"}))).toBe(9465);
    expect(metricsPort(config({"http-port": "22030"}, {PARS_STORAGE_METRICS_PORT: "null"}))).toBe(23030);
    expect(() => config({"metrics.port": "70000"})).toThrow(/metrics\.port/);
  });
});
