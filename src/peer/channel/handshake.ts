/**
 * The two-message handshake as pure steps (docs/PROTOCOL.md (Peer channel) §2). No I/O, no clock,
 * no randomness of its own: nonces, seeds and signatures are inputs, so the same functions produce
 * the fixed vectors and run in the ChannelManager.
 *
 *   initiator                                                        responder
 *   startInitiator → sign(0x01 ‖ SHA-256(Init unsigned)) → Init ──►  (checks) → respond
 *                                                         ◄── Resp   sign(0x02 ‖ TH)
 *   finishInitiator (confirm, then signature)
 */
import {CTX} from "../../crypto/index.js";
import type {PqBackend} from "../../crypto/index.js";
import {SIGNED_ROLE} from "./constants.js";
import {ChannelError} from "./errors.js";
import {
  type ChannelKeys,
  confirmMatches,
  confirmTag,
  deriveChannelKeys,
  sha256,
  signedMessage,
  wipe,
} from "./key-schedule.js";
import {type InitFields, type InitMessage, type RespMessage, appendBytes, encodeInitUnsigned, encodeRespPrefix} from "./messages.js";

export interface InitiatorStartInput {
  readonly pq: PqBackend;
  readonly initiatorId: Uint8Array;
  readonly responderId: Uint8Array;
  /** The responder's registered ML-KEM-768 key (from the membership). */
  readonly responderKemPublicKey: Uint8Array;
  readonly timestampMs: number;
  /** 32 fresh random bytes. */
  readonly nonce: Uint8Array;
  /** Test vectors only: ephemeral ML-KEM key seed d ‖ z (64 bytes). */
  readonly ephemeralSeed?: Uint8Array;
  /** Test vectors only: encapsulation randomness m (32 bytes) for the static KEM. */
  readonly encapsSeed?: Uint8Array;
}

export interface InitiatorState {
  readonly fields: InitFields;
  /** Init bytes 0 .. SIGNATURE. */
  readonly unsigned: Uint8Array;
  /** What the initiator signs: 0x01 ‖ SHA-256(unsigned). */
  readonly toSign: Uint8Array;
  readonly ephemeralSecretKey: Uint8Array;
  readonly staticSecret: Uint8Array;
}

export interface HandshakeKeys {
  readonly keys: ChannelKeys;
  /** TH = SHA-256(Init ‖ Resp prefix). */
  readonly transcriptHash: Uint8Array;
}

/** Step 1 (initiator): ephemeral key pair, encapsulation to the responder, unsigned Init. */
export function startInitiator(input: InitiatorStartInput): InitiatorState {
  const {pq} = input;
  const ephemeral = pq.mlKem768.keygen(input.ephemeralSeed);
  const {cipherText, sharedSecret} = pq.mlKem768.encapsulate(input.responderKemPublicKey, input.encapsSeed);
  const fields: InitFields = {
    initiatorId: input.initiatorId,
    responderId: input.responderId,
    timestampMs: input.timestampMs,
    nonce: input.nonce,
    kemCiphertext: cipherText,
    ephemeralKey: ephemeral.publicKey,
  };
  const unsigned = encodeInitUnsigned(fields);
  return {
    fields,
    unsigned,
    toSign: signedMessage(SIGNED_ROLE.INITIATOR, sha256(unsigned)),
    ephemeralSecretKey: ephemeral.secretKey,
    staticSecret: sharedSecret,
  };
}

/** The complete Init: unsigned ‖ signature. */
export function initMessage(state: InitiatorState, signature: Uint8Array): Uint8Array {
  return appendBytes(state.unsigned, signature);
}

/** Responder check: the Init signature under the initiator's registered ML-DSA-65 key. */
export function verifyInitSignature(pq: PqBackend, init: InitMessage, initiatorDsaPublicKey: Uint8Array): boolean {
  const message = signedMessage(SIGNED_ROLE.INITIATOR, sha256(init.unsigned));
  return pq.mlDsa65.verify(initiatorDsaPublicKey, message, init.signature, CTX.CHANNEL_HANDSHAKE);
}

export interface RespondInput {
  readonly pq: PqBackend;
  /** An Init that already passed every check of §2.3 (signature included). */
  readonly init: InitMessage;
  readonly kemSecretKey: Uint8Array;
  /** 32 fresh random bytes. */
  readonly nonce: Uint8Array;
  /** Test vectors only: encapsulation randomness m (32 bytes) to the ephemeral key. */
  readonly encapsSeed?: Uint8Array;
}

export interface RespondResult extends HandshakeKeys {
  /** Resp bytes 0 .. CONFIRM. */
  readonly prefix: Uint8Array;
  readonly confirm: Uint8Array;
  /** What the responder signs: 0x02 ‖ TH. */
  readonly toSign: Uint8Array;
}

/** Step 2 (responder): decapsulate, encapsulate to the ephemeral key, derive keys. */
export function respond(input: RespondInput): RespondResult {
  const {pq, init} = input;
  let encapsulated: {cipherText: Uint8Array; sharedSecret: Uint8Array};
  try {
    encapsulated = pq.mlKem768.encapsulate(init.ephemeralKey, input.encapsSeed);
  } catch (err) {
    const detail = "Init ephemeral ML-KEM key fails the FIPS 203 input check";
    throw new ChannelError({code: "CHANNEL_ERROR_MALFORMED", detail}, `malformed channel message: ${detail}`, err);
  }
  // FIPS 203 implicit rejection: a wrong ciphertext yields an unrelated secret, caught by confirm.
  const staticSecret = pq.mlKem768.decapsulate(init.kemCiphertext, input.kemSecretKey);
  const prefix = encodeRespPrefix({nonce: input.nonce, ephemeralCiphertext: encapsulated.cipherText});
  const transcriptHash = sha256(init.bytes, prefix);
  const ikm = appendBytes(staticSecret, encapsulated.sharedSecret);
  const keys = deriveChannelKeys(ikm, transcriptHash, init.initiatorId, init.responderId);
  wipe(ikm, staticSecret, encapsulated.sharedSecret);
  return {
    keys,
    transcriptHash,
    prefix,
    confirm: confirmTag(keys.confirmKey, transcriptHash),
    toSign: signedMessage(SIGNED_ROLE.RESPONDER, transcriptHash),
  };
}

export interface FinishInitiatorInput {
  readonly pq: PqBackend;
  readonly state: InitiatorState;
  /** The Init exactly as sent. */
  readonly init: Uint8Array;
  readonly resp: RespMessage;
  readonly responderDsaPublicKey: Uint8Array;
  /** For error metadata. */
  readonly peer: string;
}

/** Step 3 (initiator): derive keys, check the key confirmation, then the responder's signature. */
export function finishInitiator(input: FinishInitiatorInput): HandshakeKeys {
  const {pq, state, resp} = input;
  const ephemeralSecret = pq.mlKem768.decapsulate(resp.ephemeralCiphertext, state.ephemeralSecretKey);
  const transcriptHash = sha256(input.init, resp.prefix);
  const ikm = appendBytes(state.staticSecret, ephemeralSecret);
  const keys = deriveChannelKeys(ikm, transcriptHash, state.fields.initiatorId, state.fields.responderId);
  wipe(ikm, ephemeralSecret, state.staticSecret, state.ephemeralSecretKey);
  if (!confirmMatches(confirmTag(keys.confirmKey, transcriptHash), resp.confirm)) {
    throw new ChannelError(
      {code: "CHANNEL_ERROR_KEY_CONFIRMATION", peer: input.peer},
      `handshake with ${input.peer}: key confirmation failed (responder could not decapsulate, or Resp was altered)`,
    );
  }
  const message = signedMessage(SIGNED_ROLE.RESPONDER, transcriptHash);
  if (!pq.mlDsa65.verify(input.responderDsaPublicKey, message, resp.signature, CTX.CHANNEL_HANDSHAKE)) {
    throw new ChannelError(
      {code: "CHANNEL_ERROR_BAD_SIGNATURE", peer: input.peer, role: "responder"},
      `handshake with ${input.peer}: responder signature does not verify`,
    );
  }
  return {keys, transcriptHash};
}
