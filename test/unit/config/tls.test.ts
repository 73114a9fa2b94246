import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {afterEach, beforeEach, describe, expect, it} from "vitest";
import {type ConfigError, type ConfigProblem, loadConfig} from "../../../src/config/index.js";

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "pars-config-tls-"));
});
afterEach(() => fs.rmSync(tmp, {recursive: true, force: true}));

function load(opts: Parameters<typeof loadConfig>[0] = {}): ReturnType<typeof loadConfig> {
  return loadConfig({cwd: tmp, homeDir: "/home/x", env: {}, ...opts});
}

function fileWith(value: unknown): string {
  const file = path.join(tmp, "c.json");
  fs.writeFileSync(file, JSON.stringify(value));
  return file;
}

function problemsOf(fn: () => unknown): readonly ConfigProblem[] {
  try {
    fn();
  } catch (e) {
    return (e as ConfigError).problems;
  }
  throw new Error("expected a ConfigError");
}

describe("http.tls", () => {
  it("is null (plain HTTP) by default", () => {
    expect(load().http.tls).toBeNull();
  });

  it('takes "auto", null or {cert, key} from the file, with the files resolved like other paths', () => {
    expect(load({flags: {config: fileWith({http: {tls: "auto"}})}}).http.tls).toBe("auto");
    expect(load({flags: {config: fileWith({http: {tls: null}})}}).http.tls).toBeNull();
    const files = load({flags: {config: fileWith({http: {tls: {cert: "tls/c.pem", key: "~/k.pem"}}})}}).http.tls;
    expect(files).toEqual({cert: path.join(tmp, "tls/c.pem"), key: "/home/x/k.pem"});
  });

  it("takes a bare auto, null or JSON from env vars and flags; a later layer replaces the file's", () => {
    expect(load({env: {PARS_STORAGE_HTTP_TLS: "auto"}}).http.tls).toBe("auto");
    expect(load({flags: {"http.tls": '{"cert": "/c", "key": "/k"}'}}).http.tls).toEqual({cert: "/c", key: "/k"});
    const file = fileWith({http: {tls: "auto"}});
    expect(load({flags: {config: file, "http.tls": "null"}}).http.tls).toBeNull();
  });

  it("names the bad field in every refused form", () => {
    const messages = (tls: unknown): string[] =>
      problemsOf(() => load({flags: {config: fileWith({http: {tls}})}})).map((p) => `${p.path}: ${p.message}`);
    expect(messages("yes")).toEqual(['http.tls: must be one of null, "auto", {"cert": …, "key": …} (got "yes")']);
    expect(messages({cert: "/c"})).toEqual(["http.tls: key: is required (got undefined)"]);
    expect(messages({cert: "", key: "/k"})).toEqual(['http.tls: cert: must be at least 1 character(s) long (got "")']);
    expect(messages({cert: "/c", key: "/k", ca: "/x"})[0]).toMatch(/^http\.tls: ca: unknown option/);
    const flag = problemsOf(() => load({flags: {"http.tls": "on"}}));
    expect(flag.map((p) => [p.origin, p.message])).toEqual([["--http.tls", 'must be JSON (got "on")']]);
  });
});
