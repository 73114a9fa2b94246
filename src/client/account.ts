/**
 * The accounts a client acts for, and how each proves a request (docs/PROTOCOL.md Client RPC §2,
 * WebSocket §3): `05` Session IDs (X25519 account, Ed25519 signing key), `03`-style accounts whose
 * 32 bytes are the Ed25519 key, `07` Pars accounts (ML-DSA-65 + ML-KEM-768; the ID is a hash, so
 * both public keys travel with every signed request), and subaccount tokens of any of them.
 */
import {createPrivateKey, createPublicKey, randomBytes, sign as edSign, type KeyObject} from "node:crypto";
import {CTX, deriveAccountId07, ed25519PkToX25519, type PqBackend} from "../crypto/index.js";
import {toBase64, toHex} from "../protocol/index.js";
import {InvalidArgumentError} from "../util/index.js";

/** The request fields that authenticate a signed RPC (Session's names). */
export interface AuthFields {
  pubkey: string;
  signature: string;
  pubkey_ed25519?: string;
  pubkey_mldsa?: string;
  pubkey_mlkem?: string;
  subaccount?: string;
  subaccount_sig?: string;
}

/** Anything that can sign requests for an account: a key pair or a subaccount token. */
export interface ClientAccount {
  /** The 66-hex account (prefix included) the requests act for. */
  readonly id: string;
  /** The fields proving that this account (or its subaccount) signed `message`. */
  auth(message: Uint8Array): AuthFields;
}

/** Subaccount token flags (Session oxenss/common/subaccount_token.h). */
export const SUBACCOUNT_FLAGS = {READ: 0x01, WRITE: 0x02, DELETE: 0x04, ANY_PREFIX: 0x08} as const;
export const SUBACCOUNT_TOKEN_BYTES = 36;
const ED25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
export const ED25519_SEED_BYTES = 32;
export const ML_DSA65_SEED_BYTES = 32;
export const ML_KEM768_SEED_BYTES = 64;

/** An Ed25519 key pair from a 32-byte seed (node:crypto; RFC 8032 key derivation). */
export class Ed25519Key {
  readonly publicKey: Buffer;
  readonly #key: KeyObject;

  constructor(readonly seed: Uint8Array) {
    if (seed.length !== ED25519_SEED_BYTES) throw new InvalidArgumentError(`an Ed25519 seed is ${ED25519_SEED_BYTES} bytes`);
    this.#key = createPrivateKey({key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: "der", type: "pkcs8"});
    this.publicKey = Buffer.from(createPublicKey(this.#key).export({format: "der", type: "spki"}).subarray(-32));
  }

  sign(message: Uint8Array): Buffer {
    return edSign(null, message, this.#key);
  }
}

/** Something that can issue subaccount tokens: signs the 36 token bytes with the account key. */
export interface TokenIssuer extends ClientAccount {
  /** The owner's own key fields a subaccount request must repeat (pubkey_ed25519, or the 07 keys). */
  readonly ownerFields: Partial<AuthFields>;
  signToken(token: Uint8Array): Buffer;
}

/**
 * A `05` Session ID: the account is 05 ‖ X25519(Ed25519 key); requests carry `pubkey_ed25519` and an
 * Ed25519 signature (the node checks the ed→x mapping). With `prefix: "03"` (or another non-05
 * prefix) the account is prefix ‖ Ed25519 key itself and no `pubkey_ed25519` is sent.
 */
export class Ed25519Account implements TokenIssuer {
  readonly id: string;
  readonly key: Ed25519Key;
  readonly ownerFields: Partial<AuthFields>;

  constructor(seed: Uint8Array, readonly prefix = "05") {
    if (!/^[0-9a-f]{2}$/.test(prefix) || prefix === "07") throw new InvalidArgumentError(`not an Ed25519 account prefix: ${prefix}`);
    this.key = new Ed25519Key(seed);
    if (prefix === "05") {
      const x = ed25519PkToX25519(this.key.publicKey);
      if (x === null) throw new InvalidArgumentError("the Ed25519 key has no X25519 form");
      this.id = prefix + toHex(x);
      this.ownerFields = {pubkey_ed25519: toHex(this.key.publicKey)};
    } else {
      this.id = prefix + toHex(this.key.publicKey);
      this.ownerFields = {};
    }
  }

  auth(message: Uint8Array): AuthFields {
    return {pubkey: this.id, ...this.ownerFields, signature: toBase64(this.key.sign(message))};
  }

  signToken(token: Uint8Array): Buffer {
    return this.key.sign(token);
  }
}

/**
 * A `07` Pars account: ML-DSA-65 signs (context `pars-storage/v1/request`), and every signed
 * request carries both public keys so the node can recompute the ID (PROTOCOL Client RPC §2).
 * Needs `initHashing()` (BLAKE2b) before construction.
 */
export class PqAccount implements TokenIssuer {
  readonly id: string;
  readonly mlDsa: {publicKey: Uint8Array; secretKey: Uint8Array};
  readonly mlKem: {publicKey: Uint8Array; secretKey: Uint8Array};
  readonly ownerFields: Partial<AuthFields>;

  constructor(
    readonly seeds: {mlDsa: Uint8Array; mlKem: Uint8Array},
    private readonly pq: PqBackend,
  ) {
    if (seeds.mlDsa.length !== ML_DSA65_SEED_BYTES || seeds.mlKem.length !== ML_KEM768_SEED_BYTES) {
      throw new InvalidArgumentError(`07 seeds are ${ML_DSA65_SEED_BYTES} (ML-DSA-65) and ${ML_KEM768_SEED_BYTES} (ML-KEM-768) bytes`);
    }
    this.mlDsa = pq.mlDsa65.keygen(seeds.mlDsa);
    this.mlKem = pq.mlKem768.keygen(seeds.mlKem);
    this.id = deriveAccountId07(this.mlKem.publicKey, this.mlDsa.publicKey);
    this.ownerFields = {pubkey_mldsa: toBase64(this.mlDsa.publicKey), pubkey_mlkem: toBase64(this.mlKem.publicKey)};
  }

  auth(message: Uint8Array): AuthFields {
    const signature = this.pq.mlDsa65.sign(this.mlDsa.secretKey, message, CTX.REQUEST_AUTH);
    return {pubkey: this.id, ...this.ownerFields, signature: toBase64(signature)};
  }

  signToken(token: Uint8Array): Buffer {
    return Buffer.from(this.pq.mlDsa65.sign(this.mlDsa.secretKey, token, CTX.SUBACCOUNT_TOKEN));
  }
}

/**
 * A subaccount: acts for `owner.id` with a token the owner signed; requests are signed by the
 * token's Ed25519 subkey (Session's rules; for `07` owners the token signature is ML-DSA-65 with
 * context `pars-storage/v1/subaccount`).
 */
export class SubaccountAccount implements ClientAccount {
  readonly id: string;

  constructor(
    readonly token: Uint8Array,
    readonly tokenSignature: Uint8Array,
    private readonly subkey: Ed25519Key,
    private readonly ownerFields: Partial<AuthFields> & {pubkey: string},
  ) {
    if (token.length !== SUBACCOUNT_TOKEN_BYTES) throw new InvalidArgumentError(`a subaccount token is ${SUBACCOUNT_TOKEN_BYTES} bytes`);
    if (!Buffer.from(token.subarray(4)).equals(subkey.publicKey)) throw new InvalidArgumentError("the token is not for this subkey");
    this.id = ownerFields.pubkey;
  }

  /**
   * Issues a token for `subkey` from `owner` (flags: SUBACCOUNT_FLAGS bits; the token's prefix is
   * the owner's) and returns the subaccount that uses it.
   */
  static issue(owner: TokenIssuer, subkey: Ed25519Key, flags: number): SubaccountAccount {
    const token = Buffer.alloc(SUBACCOUNT_TOKEN_BYTES);
    token[0] = Number.parseInt(owner.id.slice(0, 2), 16);
    token[1] = flags;
    subkey.publicKey.copy(token, 4);
    return new SubaccountAccount(token, owner.signToken(token), subkey, {pubkey: owner.id, ...owner.ownerFields});
  }

  auth(message: Uint8Array): AuthFields {
    return {
      ...this.ownerFields,
      pubkey: this.id,
      signature: toBase64(this.subkey.sign(message)),
      subaccount: toBase64(this.token),
      subaccount_sig: toBase64(this.tokenSignature),
    };
  }
}

/** A fresh random account of the given type. */
export function generateAccount(type: "05" | "07", pq: PqBackend): Ed25519Account | PqAccount {
  if (type === "05") return new Ed25519Account(randomBytes(ED25519_SEED_BYTES));
  return new PqAccount({mlDsa: randomBytes(ML_DSA65_SEED_BYTES), mlKem: randomBytes(ML_KEM768_SEED_BYTES)}, pq);
}
