/**
 * A node whose stderr is a log file on a full disk must keep running (npm run chaos crashed a
 * node that way: pino's stream emitted ENOSPC as an unhandled 'error'). /dev/full answers every
 * write with ENOSPC. Runs the built logger (npm test builds first).
 */
import {spawnSync} from "node:child_process";
import {closeSync, existsSync, openSync} from "node:fs";
import {join} from "node:path";
import {pathToFileURL} from "node:url";
import {describe, expect, it} from "vitest";

const LOGGER = pathToFileURL(join(import.meta.dirname, "../../dist/src/cli/logger.js")).href;

describe("the root logger on a stderr that cannot be written", () => {
  it.skipIf(!existsSync("/dev/full"))("keeps the process alive and its log buffer bounded", () => {
    const script = [
      `const {createRootLogger, LOG_BUFFER_MAX_BYTES} = await import(${JSON.stringify(LOGGER)});`,
      `const logger = createRootLogger({level: "info", pretty: false});`,
      `gc(); const before = process.memoryUsage().heapUsed;`,
      `for (let i = 0; i < 40000; i++) logger.info({i, pad: "x".repeat(500)}, "line");`,
      `gc(); const grown = process.memoryUsage().heapUsed - before;`,
      `process.stdout.write(JSON.stringify({alive: true, grown, cap: LOG_BUFFER_MAX_BYTES}) + "\\n");`,
    ].join("\n");
    const full = openSync("/dev/full", "w");
    try {
      const out = spawnSync(process.execPath, ["--expose-gc", "--input-type=module", "-e", script], {stdio: ["ignore", "pipe", full], encoding: "utf8"});
      expect(out.status, out.stdout).toBe(0);
      const report = JSON.parse(out.stdout) as {alive: boolean; grown: number; cap: number};
      expect(report.alive).toBe(true);
      // 40,000 lines of ~600 B (~24 MB) were logged; the unwritten ones held are at most the cap.
      expect(report.grown).toBeLessThan(report.cap + 4 * 1024 * 1024);
    } finally {
      closeSync(full);
    }
  });
});
