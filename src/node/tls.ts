/**
 * The node's TLS certificate and key (`http.tls`, docs/configuration.md "HTTPS (TLS)"): none, the
 * operator's PEM files, or ("auto") a self-signed EC P-256 certificate kept in `<dataDir>/tls/`.
 * Used by the node to serve HTTPS and by `pars-storage record` / devnet to put the pin (SHA-256 of
 * the certificate's SPKI) in the signed record; both read the same files, so they agree.
 */
import {X509Certificate, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject} from "node:crypto";
import {link, mkdir, open, readFile, rm, stat} from "node:fs/promises";
import {isIP} from "node:net";
import path from "node:path";
import {dataPaths, type ParsStorageConfig} from "../config/index.js";
import {spkiSha256OfKey} from "../crypto/index.js";
import {ParsError} from "../util/index.js";
import {advertisedHost} from "./assemble-routing.js";

/** Validity of an "auto" certificate. Clients pin the key and ignore dates; browsers and curl -k do not care. */
const AUTO_CERT_VALIDITY_MS = 20 * 365 * 24 * 3600_000;

export interface NodeTls {
  /** PEM certificate (chain) and key, as fastify's `https` option takes them. */
  readonly cert: string;
  readonly key: string;
  /** SHA-256 of the certificate's SubjectPublicKeyInfo DER, lowercase hex: the record's pin. */
  readonly spkiSha256: string;
  /** "auto" made a new key (and certificate) on this call. */
  readonly createdKey: boolean;
}

export type TlsErrorType = {code: "TLS_ERROR_INVALID"; field: string; file: string};

/** A TLS file the node cannot use; the message names the config field and the file. */
export class TlsError extends ParsError<TlsErrorType> {
  constructor(field: string, file: string, problem: string) {
    super({code: "TLS_ERROR_INVALID", field, file}, `${field}: ${file}: ${problem}`);
    this.name = "TlsError";
  }
}

/** The node's TLS material per `http.tls`, or null for plain HTTP. "auto" creates it on first use. */
export async function loadNodeTls(config: ParsStorageConfig): Promise<NodeTls | null> {
  const tls = config.http.tls;
  if (tls === null) return null;
  if (tls === "auto") return autoTls(config);
  return operatorTls(tls.cert, tls.key, "http.tls.cert", "http.tls.key", false);
}

async function operatorTls(certFile: string, keyFile: string, certField: string, keyField: string, createdKey: boolean): Promise<NodeTls> {
  const cert = await readPem(certFile, certField);
  const key = await readPem(keyFile, keyField);
  const certificate = parse(certField, certFile, "certificate", () => new X509Certificate(cert));
  const privateKey = parse(keyField, keyFile, "private key", () => createPrivateKey(key));
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new TlsError(keyField, keyFile, `is not the key of the certificate in ${certFile}`);
  }
  return {cert, key, spkiSha256: spkiSha256OfKey(certificate.publicKey), createdKey};
}

/** `<dataDir>/tls/key.pem` (made once, 0600, never overwritten) and a certificate for it (made when missing). */
async function autoTls(config: ParsStorageConfig): Promise<NodeTls> {
  const {tlsKeyFile, tlsCertFile} = dataPaths(config);
  await mkdir(path.dirname(tlsKeyFile), {recursive: true, mode: 0o700});
  let createdKey = false;
  if (!(await exists(tlsKeyFile))) {
    const {privateKey} = generateKeyPairSync("ec", {namedCurve: "prime256v1"});
    createdKey = await writeNew(tlsKeyFile, privateKey.export({type: "pkcs8", format: "pem"}) as string, 0o600);
  }
  if (!(await exists(tlsCertFile))) {
    const key = await readPem(tlsKeyFile, "http.tls (auto key)");
    const privateKey = parse("http.tls (auto key)", tlsKeyFile, "private key", () => createPrivateKey(key));
    await writeNew(tlsCertFile, await selfSignedCertificate(privateKey, key, certificateHosts(config)), 0o644);
  }
  return operatorTls(tlsCertFile, tlsKeyFile, "http.tls (auto certificate)", "http.tls (auto key)", createdKey);
}

/** The advertised host (or bind address), 127.0.0.1 and localhost: names a client may use for this node. */
export function certificateHosts(config: ParsStorageConfig): string[] {
  const hosts = [advertisedHost(config), "127.0.0.1", "localhost"].filter((h) => h !== "" && h !== "0.0.0.0" && h !== "::");
  return [...new Set(hosts)];
}

async function selfSignedCertificate(privateKey: KeyObject, privatePem: string, hosts: readonly string[]): Promise<string> {
  const publicPem = createPublicKey(privateKey).export({type: "spki", format: "pem"}) as string;
  const notBeforeDate = new Date();
  // Loaded only here: a node without "auto" TLS never pays for the certificate library.
  const {generate} = await import("selfsigned");
  const pems = await generate([{name: "commonName", value: hosts[0] ?? "pars-storage"}], {
    keyType: "ec",
    algorithm: "sha256",
    keyPair: {privateKey: privatePem, publicKey: publicPem},
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + AUTO_CERT_VALIDITY_MS),
    extensions: [
      {name: "basicConstraints", cA: false},
      {name: "keyUsage", digitalSignature: true},
      {name: "extKeyUsage", serverAuth: true},
      {name: "subjectAltName", altNames: hosts.map((h) => (isIP(h) === 0 ? {type: 2 as const, value: h} : {type: 7 as const, ip: h}))},
    ],
  });
  return pems.cert;
}

async function readPem(file: string, field: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    throw new TlsError(field, file, `cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

function parse<T>(field: string, file: string, what: "certificate" | "private key", fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new TlsError(field, file, `is not a PEM ${what} (${(err as Error).message})`);
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw new TlsError("http.tls", file, `cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

/**
 * Writes `text` to `file` only if it does not exist: an fsync'd temp file hard-linked to the name
 * (link fails on an existing name, so a key is never overwritten, and a crash leaves no half file).
 * Returns false if another process created it first.
 */
async function writeNew(file: string, text: string, mode: number): Promise<boolean> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    const handle = await open(temp, "wx", mode);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await link(temp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw new TlsError("http.tls", file, `cannot write (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  } finally {
    await rm(temp, {force: true});
  }
}
