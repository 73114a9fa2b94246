/**
 * The operator's views of a real 3-node devnet (built CLI): the status page in Debian's headless
 * chromium (playwright-core, no bundled browser) renders with no console error under its CSP,
 * shows the node's ID, swarm members and message count, and refreshes to show a stored message;
 * `pars-storage status --url` and `--devnet` print the same facts, and a stopped node shows up
 * in the devnet table (exit 1). The devnet's start logged its progress.
 */
import type {ChildProcess} from "node:child_process";
import {existsSync, mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {chromium, type Browser} from "playwright-core";
import {request} from "undici";
import {afterAll, beforeAll, describe, expect, it, vi} from "vitest";
import {runCli, startDevnetProcess, stopDevnetProcess} from "../utils/child-process.js";
import {sessionAccount} from "../utils/keys.js";

const CHROMIUM = "/usr/bin/chromium";
const base = mkdtempSync(join(tmpdir(), "pars-e2e-status-"));
let devnet: ChildProcess | null = null;
let browser: Browser | null = null;
let nodes: Array<{url: string; nodeId: string}> = [];
let startErr = "";

beforeAll(async () => {
  const started = await startDevnetProcess(["--nodes", "3", "--base-dir", base], 90_000);
  devnet = started.proc;
  nodes = started.nodes;
  // stderr is another pipe than the "devnet ready" line on stdout: wait for its last progress line.
  await vi.waitFor(() => expect(started.stderr()).toContain("3 nodes ready"), {timeout: 5_000});
  startErr = started.stderr();
});

afterAll(async () => {
  await browser?.close();
  await stopDevnetProcess(devnet);
  rmSync(base, {recursive: true, force: true});
});

async function store(url: string, text: string): Promise<void> {
  const acc = sessionAccount();
  const params = {pubkey: acc.hex, timestamp: Date.now(), ttl: 600_000, data: Buffer.from(text).toString("base64")};
  const res = await request(new URL("/storage_rpc/v1", url), {method: "POST", body: JSON.stringify({method: "store", params})});
  const body = (await res.body.json()) as {swarm: Record<string, {failed?: true}>};
  expect(res.statusCode).toBe(200);
  // Every member stored it before answering, so each node's count is up by one.
  for (const [id, entry] of Object.entries(body.swarm)) expect(entry.failed, id).toBeUndefined();
}

describe("devnet start progress", () => {
  it("not a terminal: a line per phase on stderr, ending with all nodes ready", () => {
    const lines = startErr.split("\n").filter((l) => l.startsWith("pars-storage: devnet: "));
    const phases = lines.map((l) => /^pars-storage: devnet: ([a-z0-9 ]+?)(?: \d+\/3.*)? \([0-9.]+ s\)$/.exec(l)?.[1] ?? l);
    expect([...new Set(phases)], startErr).toEqual(["node keys", "starting nodes", "signing membership", "waiting for nodes to load the membership", "3 nodes ready"]);
  });
});

describe("status page in a real browser", () => {
  it("renders node 1's figures with no console error and refreshes them after a store", async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`).toBe(true);
    browser = await chromium.launch({executablePath: CHROMIUM});
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ""}`));

    const [first] = nodes as [{url: string; nodeId: string}];
    const response = await page.goto(`${first.url}/?refresh=500`);
    expect(page.url()).toBe(`${first.url}/status?refresh=500`);
    expect(response?.headers()["content-security-policy"]).toContain("default-src 'none'");

    const text = (id: string): Promise<string> => page.locator(`#${id}`).innerText();
    // Polled from here through locators: page.waitForFunction would evaluate a string, which the CSP forbids.
    await expect.poll(() => text("node-id"), {timeout: 20_000}).toBe(first.nodeId);
    expect(await text("network")).toBe("devnet (7072)");
    await expect.poll(() => page.locator("#members tr[data-node-id]").count(), {timeout: 20_000}).toBe(3);
    const rows = await page.locator("#members tr[data-node-id]").all();
    const members = await Promise.all(rows.map((r) => r.getAttribute("data-node-id")));
    expect(members.sort()).toEqual(nodes.map((n) => n.nodeId).sort());
    expect(await page.locator(`#members tr[data-node-id="${first.nodeId}"]`).innerText()).toContain("this node");
    expect(await text("messages")).toBe("0");
    expect(await text("ready")).toBe("ready");

    const before = Number(await page.locator("body").getAttribute("data-refreshes"));
    await store(first.url, "seen on the status page");
    await expect.poll(() => text("messages"), {timeout: 20_000}).toBe("1");
    expect(Number(await page.locator("body").getAttribute("data-refreshes"))).toBeGreaterThan(before);
    // The chart has a point per refresh since the page opened.
    expect(await page.locator("#messages-chart polyline").count()).toBe(1);
    expect(await text("error")).toBe("");
    expect(problems).toEqual([]);
  });
});

describe("pars-storage status", () => {
  it("--url prints the node's facts; --devnet a row per node; a stopped node is listed as such (exit 1)", async () => {
    const [first] = nodes as [{url: string; nodeId: string}];
    const one = await runCli(["status", "--url", first.url]);
    expect(one.stderr).toBe("");
    expect(one.code).toBe(0);
    const lines = one.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe(`node       ${first.nodeId}`);
    expect(lines).toContain("state      ready");
    expect(lines.find((l) => l.startsWith("storage"))).toMatch(/^storage {4}1 messages, 1 accounts, /);
    expect(lines).toContain("swarm      0, 3 members");
    for (const n of nodes) expect(lines.some((l) => l.startsWith(`  ${n.nodeId.slice(0, 12)}  ${new URL(n.url).host}`)), n.nodeId).toBe(true);

    const table = await runCli(["status", "--devnet", base]);
    expect(table.code).toBe(0);
    const rows = table.stdout.trimEnd().split("\n");
    expect(rows[0]).toMatch(/^NODE +URL +PROCESS +NODE ID +STATE +SWARM +MSGS/);
    expect(rows).toHaveLength(4);
    nodes.forEach((n, i) => expect(rows[i + 1]).toMatch(new RegExp(`^node-${i + 1} +${n.url} +running +${n.nodeId.slice(0, 12)} +ready +0 +1 `)));

    const stop = await runCli(["devnet", "--base-dir", base, "--stop-node", "3"]);
    expect(stop.code, stop.stderr).toBe(0);
    const after = await runCli(["status", "--devnet", base]);
    expect(after.code).toBe(1);
    expect(after.stdout).toMatch(new RegExp(`\\nnode-3 +${nodes[2]!.url} +stopped +- +unreachable: `));
    expect(after.stdout).toMatch(/\nnode-1 +\S+ +running +\S+ +ready /);
  });
});
