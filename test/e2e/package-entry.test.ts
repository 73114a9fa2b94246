import {readFileSync} from "node:fs";
import {join} from "node:path";
import {pathToFileURL} from "node:url";
import {describe, expect, it} from "vitest";

const root = join(import.meta.dirname, "..", "..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {main: string; types: string};

describe("the built package's entry points", () => {
  it("main loads and exports the node and the config loader; types exist", async () => {
    const mod = (await import(pathToFileURL(join(root, pkg.main)).href)) as Record<string, unknown>;
    expect(typeof mod["StorageNode"]).toBe("function");
    expect(typeof mod["loadConfig"]).toBe("function");
    expect(typeof mod["PARS_STORAGE_VERSION"]).toBe("string");
    expect(readFileSync(join(root, pkg.types), "utf8")).toContain("StorageNode");
  });
});
