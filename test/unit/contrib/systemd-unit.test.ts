/**
 * contrib/pars-storage.service: the keys the operators' README promises (hardening, state
 * directory, graceful stop), and, where systemd-analyze exists, that systemd itself accepts the
 * unit without a warning and rates its exposure low. `verify` checks that ExecStart is executable,
 * so it runs on a copy pointed at this checkout's built CLI.
 */
import {execFileSync, spawnSync} from "node:child_process";
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {fileURLToPath} from "node:url";
import {describe, expect, it} from "vitest";
import {DEFAULT_HTTP_REQUEST_TIMEOUT_MS} from "../../../src/config/index.js";

const UNIT_FILE = fileURLToPath(new URL("../../../contrib/pars-storage.service", import.meta.url));
const BIN = fileURLToPath(new URL("../../../dist/src/cli/bin.js", import.meta.url));
const text = readFileSync(UNIT_FILE, "utf8");

/** section → key → every value (systemd keys may repeat). */
function parseUnit(source: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | null = null;
  for (const raw of source.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = new Map();
      sections.set(header[1]!, current);
      continue;
    }
    const eq = line.indexOf("=");
    expect(eq, `not a key=value line: ${line}`).toBeGreaterThan(0);
    expect(current, `key outside a section: ${line}`).not.toBeNull();
    const key = line.slice(0, eq);
    current!.set(key, [...(current!.get(key) ?? []), line.slice(eq + 1)]);
  }
  return sections;
}

const unit = parseUnit(text);
const service = unit.get("Service")!;
const one = (key: string): string | undefined => service.get(key)?.at(-1);

describe("contrib/pars-storage.service", () => {
  it("runs `pars-storage start` with its data in the state directory", () => {
    expect([...unit.keys()]).toEqual(["Unit", "Service", "Install"]);
    expect(one("ExecStart")).toMatch(/\/pars-storage start$/);
    expect(one("StateDirectory")).toBe("pars-storage");
    expect(service.get("Environment")).toContain("PARS_STORAGE_DATA_DIR=/var/lib/pars-storage");
    expect(unit.get("Install")?.get("WantedBy")).toEqual(["multi-user.target"]);
  });

  it("is hardened: its own unprivileged user, read-only system, no new privileges, no capabilities, raised file limit", () => {
    const expected: Record<string, string> = {
      DynamicUser: "yes",
      NoNewPrivileges: "yes",
      ProtectSystem: "strict",
      ProtectHome: "yes",
      PrivateTmp: "yes",
      PrivateDevices: "yes",
      CapabilityBoundingSet: "",
      AmbientCapabilities: "",
      RestrictAddressFamilies: "AF_INET AF_INET6 AF_UNIX",
      UMask: "0077",
      LimitNOFILE: "65536",
    };
    for (const [key, value] of Object.entries(expected)) expect(one(key), key).toBe(value);
    // V8 and WebAssembly write code pages: this would crash the node.
    expect(service.has("MemoryDenyWriteExecute")).toBe(false);
  });

  it("stops gracefully: SIGTERM, and longer than the slowest in-flight request body before SIGKILL", () => {
    expect(one("KillSignal")).toBe("SIGTERM");
    expect(Number(one("TimeoutStopSec")) * 1000).toBeGreaterThan(DEFAULT_HTTP_REQUEST_TIMEOUT_MS);
    expect(one("Restart")).toBe("on-failure");
  });

  const analyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].find((p) => existsSync(p));
  it.skipIf(analyze === undefined || !existsSync(BIN))("systemd-analyze verify accepts it without a warning; security rates it OK (≤ 2.0)", () => {
    const dir = mkdtempSync(join(tmpdir(), "pars-unit-"));
    try {
      const copy = join(dir, "pars-storage.service");
      writeFileSync(copy, text.replace(/^ExecStart=.*$/m, `ExecStart=${process.execPath} ${BIN} start`));
      const verify = spawnSync(analyze!, ["verify", copy], {encoding: "utf8"});
      expect(verify.stderr).toBe("");
      expect(verify.status).toBe(0);
      const security = execFileSync(analyze!, ["security", "--offline=true", copy], {encoding: "utf8"});
      const level = /Overall exposure level for pars-storage\.service: ([0-9.]+)/.exec(security);
      expect(level, security.slice(-300)).not.toBeNull();
      expect(Number(level![1])).toBeLessThanOrEqual(2);
    } finally {
      rmSync(dir, {recursive: true, force: true});
    }
  });
});
