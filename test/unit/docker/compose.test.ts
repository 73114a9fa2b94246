/**
 * docker/docker-compose.yml and its metrics profile (issue #17 item 4), checked by what runs
 * without a Docker daemon: Debian's docker-compose 1.29 validates the file (`config`) when it is
 * installed (.ci/run installs it; CI fails without it), and a reading of the file itself checks
 * the profile's services, that every file it mounts exists, and that Prometheus scrapes every node
 * on the port its metrics listener takes.
 */
import {spawnSync} from "node:child_process";
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join, resolve} from "node:path";
import {afterAll, describe, expect, it} from "vitest";
import {DEFAULT_HTTP_PORT, METRICS_PORT_OFFSET} from "../../../src/config/index.js";

const DOCKER = resolve(import.meta.dirname, "..", "..", "..", "docker");
const COMPOSE = join(DOCKER, "docker-compose.yml");
const text = readFileSync(COMPOSE, "utf8");
const NODES = ["node1", "node2", "node3"];

/** The top-level `services:` block, split into `name → its indented lines` (the file's own two-space layout). */
function services(): Map<string, string> {
  const block = text.split(/^services:\n/m)[1]?.split(/^\S/m)[0] ?? "";
  const out = new Map<string, string>();
  for (const part of block.split(/^ {2}(?=[a-z][\w-]*:\s*$)/m).filter((p) => p.trim() !== "")) {
    const name = /^([a-z][\w-]*):/.exec(part)?.[1];
    if (name !== undefined) out.set(name, part);
  }
  return out;
}

const hasCompose = spawnSync("docker-compose", ["version"], {encoding: "utf8"}).status === 0;
const scratch = mkdtempSync(join(tmpdir(), "pars-compose-"));
afterAll(() => rmSync(scratch, {recursive: true, force: true}));

/**
 * `docker-compose config` on the file. 1.29 predates the top-level `name:` key of the Compose
 * specification (Docker's compose plugin reads it), so that line is given as `-p` instead.
 */
function composeConfig(args: string[]): {status: number | null; stdout: string; stderr: string} {
  const name = /^name: (\S+)$/m.exec(text)?.[1] ?? "pars-devnet";
  const file = join(scratch, "docker-compose.yml");
  writeFileSync(file, text.replace(/^name: .*\n/m, ""));
  const r = spawnSync("docker-compose", ["-p", name, "--project-directory", DOCKER, "-f", file, ...args, "config"], {encoding: "utf8"});
  return {status: r.status, stdout: r.stdout, stderr: r.stderr};
}

describe("docker/docker-compose.yml", () => {
  it("is valid for docker-compose, with and without the metrics profile", () => {
    if (!hasCompose) {
      // CI installs docker-compose (.ci/run); elsewhere it is optional.
      expect(process.env.CI, "docker-compose must be installed in CI").toBeUndefined();
      return;
    }
    for (const args of [[], ["--profile", "metrics"]]) {
      const r = composeConfig(args);
      expect(r.status, r.stderr).toBe(0);
      for (const s of ["init", ...NODES, "prometheus", "grafana"]) expect(r.stdout, s).toMatch(new RegExp(`^ {2}${s}:$`, "m"));
      // Relative mounts resolve to files of docker/.
      for (const m of r.stdout.matchAll(/^ {4}- (\/[^:]+):\/[^:]+:ro$/gm)) expect(existsSync(m[1]!), m[1]).toBe(true);
    }
  });

  it("adds Prometheus and Grafana only under the metrics profile; the devnet needs no profile", () => {
    const all = services();
    expect([...all.keys()]).toEqual(["init", ...NODES, "prometheus", "grafana"]);
    for (const [name, body] of all) {
      const inProfile = /^ {4}profiles: \["metrics"\]$/m.test(body);
      expect(inProfile, name).toBe(name === "prometheus" || name === "grafana");
    }
  });

  it("mounts only files that exist in docker/", () => {
    const mounts = [...text.matchAll(/^ {6}- (\.\/[^:]+):/gm)].map((m) => m[1]!);
    expect(mounts.sort()).toEqual(["./grafana/dashboards", "./grafana/provisioning", "./prometheus.yml"]);
    for (const m of mounts) expect(existsSync(join(DOCKER, m)), m).toBe(true);
    for (const f of ["provisioning/datasources/prometheus.yml", "provisioning/dashboards/pars-storage.yml", "dashboards/pars-storage.json"]) {
      expect(existsSync(join(DOCKER, "grafana", f)), f).toBe(true);
    }
    // Grafana loads the dashboards from where the compose file mounts them.
    expect(readFileSync(join(DOCKER, "grafana/provisioning/dashboards/pars-storage.yml"), "utf8")).toContain("path: /var/lib/grafana/dashboards");
    expect(text).toContain("./grafana/dashboards:/var/lib/grafana/dashboards:ro");
  });

  it("Prometheus scrapes every node on its metrics port, which the nodes open to the compose network", () => {
    const prometheus = readFileSync(join(DOCKER, "prometheus.yml"), "utf8");
    const port = DEFAULT_HTTP_PORT + METRICS_PORT_OFFSET;
    expect(prometheus).toContain(`targets: [${NODES.map((n) => `"${n}:${port}"`).join(", ")}]`);
    expect(text).toMatch(/^ {4}PARS_STORAGE_METRICS_BIND: 0\.0\.0\.0$/m);
    // The node services take the anchor that carries it, and keep the default RPC port.
    for (const n of NODES) expect(services().get(n), n).toContain("<<: *node");
    expect(text).toContain(`--hosts", "${NODES.join(",")}`);
    const datasource = readFileSync(join(DOCKER, "grafana/provisioning/datasources/prometheus.yml"), "utf8");
    expect(datasource).toContain("url: http://prometheus:9090");
    expect(datasource).toContain("uid: prometheus");
  });
});
