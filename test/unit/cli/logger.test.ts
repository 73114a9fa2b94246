import {describe, expect, it} from "vitest";
import {createRootLogger} from "../../../src/cli/logger.js";

describe("createRootLogger", () => {
  it("writes JSON lines at the configured level", () => {
    const lines: string[] = [];
    const logger = createRootLogger({level: "warn", pretty: false}, {write: (l: string) => lines.push(l)});
    logger.info("hidden");
    logger.child({module: "x"}).warn({n: 1}, "shown");
    expect(lines).toHaveLength(1);
    const line: unknown = JSON.parse(lines[0] ?? "");
    expect(line).toMatchObject({level: 40, name: "pars-storage", module: "x", n: 1, msg: "shown"});
  });
});
