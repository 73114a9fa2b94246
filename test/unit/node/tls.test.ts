import {X509Certificate, generateKeyPairSync} from "node:crypto";
import {mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {afterEach, beforeEach, describe, expect, it} from "vitest";
import {dataPaths, defaultConfig, type ParsStorageConfig} from "../../../src/config/index.js";
import {spkiSha256} from "../../../src/crypto/tls-pin.js";
import {loadNodeTls} from "../../../src/node/tls.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "pars-tls-"));
});
afterEach(() => rmSync(dir, {recursive: true, force: true}));

function config(tls: ParsStorageConfig["http"]["tls"], publicHost = ""): ParsStorageConfig {
  const c = defaultConfig();
  return {...c, dataDir: dir, http: {...c.http, tls}, node: {...c.node, publicHost}};
}

describe('http.tls "auto"', () => {
  it("creates a 0600 EC P-256 key and a certificate with the node's names, then reuses them", async () => {
    const first = await loadNodeTls(config("auto", "node.example.org"));
    const paths = dataPaths({dataDir: dir});
    expect(first?.createdKey).toBe(true);
    expect(statSync(paths.tlsKeyFile).mode & 0o777).toBe(0o600);
    const cert = new X509Certificate(readFileSync(paths.tlsCertFile));
    expect(cert.subjectAltName).toBe("DNS:node.example.org, IP Address:127.0.0.1, DNS:localhost");
    expect(spkiSha256(cert)).toBe(first?.spkiSha256);
    const again = await loadNodeTls(config("auto", "other.example.org"));
    expect(again).toEqual({...first, createdKey: false});
  });

  it("never overwrites the key; a deleted certificate is made again for the same key (same pin)", async () => {
    const first = await loadNodeTls(config("auto"));
    const paths = dataPaths({dataDir: dir});
    const key = readFileSync(paths.tlsKeyFile, "utf8");
    unlinkSync(paths.tlsCertFile);
    const second = await loadNodeTls(config("auto"));
    expect(second?.spkiSha256).toBe(first?.spkiSha256);
    expect(readFileSync(paths.tlsKeyFile, "utf8")).toBe(key);
  });
});

describe("http.tls files", () => {
  it("is null for plain HTTP", async () => {
    expect(await loadNodeTls(config(null))).toBeNull();
  });

  it("loads the operator's certificate and key and computes the pin", async () => {
    const auto = await loadNodeTls(config("auto"));
    const paths = dataPaths({dataDir: dir});
    const tls = await loadNodeTls(config({cert: paths.tlsCertFile, key: paths.tlsKeyFile}));
    expect(tls?.spkiSha256).toBe(auto?.spkiSha256);
  });

  it("names the field and the file of a missing, non-PEM or mismatched file", async () => {
    await loadNodeTls(config("auto"));
    const {tlsCertFile: cert, tlsKeyFile: key} = dataPaths({dataDir: dir});
    const missing = join(dir, "nope.pem");
    await expect(loadNodeTls(config({cert: missing, key}))).rejects.toThrow(`http.tls.cert: ${missing}: cannot read (ENOENT)`);
    const junk = join(dir, "junk.pem");
    writeFileSync(junk, "not pem");
    await expect(loadNodeTls(config({cert, key: junk}))).rejects.toThrow(new RegExp(`^http\\.tls\\.key: ${junk}: is not a PEM private key`));
    await expect(loadNodeTls(config({cert: junk, key}))).rejects.toMatchObject({code: "TLS_ERROR_INVALID", type: {field: "http.tls.cert", file: junk}});
    const other = join(dir, "other.pem");
    writeFileSync(other, generateKeyPairSync("ec", {namedCurve: "prime256v1"}).privateKey.export({type: "pkcs8", format: "pem"}));
    await expect(loadNodeTls(config({cert, key: other}))).rejects.toThrow(`http.tls.key: ${other}: is not the key of the certificate in ${cert}`);
  });
});
