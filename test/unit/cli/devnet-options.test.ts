import {describe, expect, it} from "vitest";
import {parseCliArgs} from "../../../src/cli/args.js";
import {parseDevnetOptions} from "../../../src/cli/devnet/options.js";

function problems(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (e) {
    expect((e as {code: string}).code).toBe("CLI_ERROR_USAGE");
    return (e as {type: {problems: readonly string[]}}).type.problems;
  }
  throw new Error("expected a UsageError");
}

const options = (argv: string[]) => parseDevnetOptions(parseCliArgs(["devnet", ...argv]));

describe("devnet flags", () => {
  it("parses devnet's own flags apart from config flags", () => {
    const args = parseCliArgs(["devnet", "--nodes", "6", "--base-dir", "/tmp/d", "--mode", "balanced", "--log-level", "warn"]);
    expect(args.options).toEqual({nodes: "6", "base-dir": "/tmp/d", mode: "balanced"});
    expect(args.flags).toEqual({"log-level": "warn"});
    expect(parseDevnetOptions(args)).toEqual({count: 6, baseDir: "/tmp/d", mode: "balanced", initOnly: false, tls: false, endpoints: null, control: null});
  });

  it("reads --tls (every node serves HTTPS); a control command refuses it", () => {
    expect(options(["--nodes", "3", "--tls"]).tls).toBe(true);
    expect(() => parseDevnetOptions(parseCliArgs(["devnet", "--base-dir", "/d", "--status", "--tls"]))).toThrow(/--tls does not apply/);
  });

  it("reads --init-only with --hosts (default port 22025), or loopback ports from 22025", () => {
    expect(options(["--nodes", "2", "--init-only", "--hosts", "node1,node2:23000"]).endpoints).toEqual([
      {host: "node1", port: 22025},
      {host: "node2", port: 23000},
    ]);
    expect(options(["--nodes=2", "--init-only"]).endpoints).toEqual([
      {host: "127.0.0.1", port: 22025},
      {host: "127.0.0.1", port: 22026},
    ]);
  });

  it("reports every problem at once", () => {
    expect(problems(() => options(["--nodes", "0", "--mode", "ring", "--hosts", "a", "--data-dir", "/x"]))).toEqual([
      "--nodes must be an integer from 1 to 50",
      '--mode must be "pip0008" or "balanced"',
      "--hosts only applies with --init-only",
      "--data-dir is set by devnet for each node",
    ]);
    expect(problems(() => options(["--nodes", "3", "--init-only", "--hosts", "a,b:0"]))).toEqual([
      '--hosts: bad entry "b:0"',
      "--hosts lists 2 hosts for 3 nodes",
    ]);
  });

  it("belong to devnet only", () => {
    expect(problems(() => parseCliArgs(["start", "--nodes", "3"]))).toEqual(["--nodes only applies to the devnet command"]);
    expect(problems(() => parseCliArgs(["record", "--full"]))).toEqual(["--full only applies to the id command"]);
  });

  it("reads one control flag against a running devnet's --base-dir, without --nodes", () => {
    expect(options(["--base-dir", "/tmp/d", "--stop-node", "3"]).control).toEqual({action: "stop", node: 3});
    expect(options(["--base-dir", "/tmp/d", "--kill-node=2"]).control).toEqual({action: "kill", node: 2});
    expect(options(["--base-dir", "/tmp/d", "--start-node", "1"]).control).toEqual({action: "start", node: 1});
    expect(options(["--base-dir", "/tmp/d", "--status"]).control).toEqual({action: "status", node: null});
    expect(options(["--nodes", "2"]).control).toBeNull();
  });

  it("rejects control flags without a base dir, with a bad node number, together, or with start flags", () => {
    expect(problems(() => options(["--stop-node", "0", "--status", "--nodes", "3"]))).toEqual([
      "--stop-node needs a node number from 1 to 50",
      "give one of --status, --stop-node, --start-node, --kill-node",
      "--status, --stop-node, --start-node and --kill-node need the running devnet's --base-dir",
      "--nodes does not apply to a control command",
    ]);
    expect(problems(() => parseCliArgs(["start", "--stop-node", "1"]))).toEqual(["--stop-node only applies to the devnet command"]);
  });
});
