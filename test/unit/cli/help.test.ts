import {describe, expect, it} from "vitest";
import {helpText} from "../../../src/cli/help.js";
import {CONFIG_LEAVES, defaultConfig} from "../../../src/config/index.js";

describe("helpText", () => {
  const text = helpText();

  it("lists every command", () => {
    for (const command of ["start", "keygen", "id", "help"]) expect(text).toMatch(new RegExp(`^  ${command} `, "m"));
  });

  it("lists every flag with its default and env var, read from the schema", () => {
    for (const leaf of CONFIG_LEAVES) {
      for (const flag of leaf.flags) expect(text, leaf.path).toContain(`--${flag}`);
      expect(text, leaf.path).toContain(`default: ${JSON.stringify(leaf.defaultValue)}   env: ${leaf.env}`);
    }
    expect(text).toContain("--config <path>");
    expect(text).toContain(`default: ${defaultConfig().http.port}   env: PARS_STORAGE_HTTP_PORT`);
    expect(text).toContain("--http-port, --http.port <integer>");
    expect(text).toContain("--network <mainnet|testnet|devnet>");
  });

  it("narrows the header to one command", () => {
    const id = helpText("id");
    expect(id).toMatch(/^Usage: pars-storage id \[--full\]/);
    expect(id).toContain("--full");
    expect(helpText("start")).not.toContain("--full");
  });
});
