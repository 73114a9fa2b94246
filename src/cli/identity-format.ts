import {createHash} from "node:crypto";

/** The public half of an identity, as far as `id` needs it. */
export interface PublicIdentity {
  readonly nodeId: string;
  readonly mlDsa: {readonly publicKey: Uint8Array};
  readonly mlKem: {readonly publicKey: Uint8Array};
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** The lines `id` prints: node ID, then each public key's SHA-256 fingerprint (or the key itself). */
export function describeIdentity(identity: PublicIdentity, keyFile: string, full: boolean): string[] {
  const key = (label: string, publicKey: Uint8Array): string =>
    full
      ? `${label} public key: ${Buffer.from(publicKey).toString("hex")}`
      : `${label} public key SHA-256: ${sha256Hex(publicKey)}`;
  return [
    `node ID: ${identity.nodeId}`,
    key("ML-DSA-65", identity.mlDsa.publicKey),
    key("ML-KEM-768", identity.mlKem.publicKey),
    `key file: ${keyFile}`,
  ];
}
