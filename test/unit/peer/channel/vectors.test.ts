/**
 * The fixed vectors of docs/PROTOCOL.md (Peer channel) §8, produced by
 * test/fixtures/replication/gen_channel_vectors.py (hashlib/hmac + pyca/cryptography), recomputed
 * here with src/: every deterministic value must match byte for byte and both stored (hedged)
 * ML-DSA-65 signatures, made by pyca, must verify with our backend.
 */
import {execFileSync} from "node:child_process";
import {createHash} from "node:crypto";
import {readFileSync} from "node:fs";
import {dirname, join} from "node:path";
import {fileURLToPath} from "node:url";
import {beforeAll, describe, expect, it} from "vitest";
import {CTX} from "../../../../src/crypto/contexts.js";
import {initHashing} from "../../../../src/crypto/hash.js";
import {generateIdentity} from "../../../../src/crypto/identity.js";
import type {NodeIdentity} from "../../../../src/crypto/key-file.js";
import {Channel} from "../../../../src/peer/channel/channel.js";
import {MessageType} from "../../../../src/peer/channel/constants.js";
import {aeadKey, openFrame, sealFrame} from "../../../../src/peer/channel/frame.js";
import {
  finishInitiator,
  initMessage,
  respond,
  startInitiator,
  verifyInitSignature,
  type InitiatorState,
  type RespondResult,
} from "../../../../src/peer/channel/handshake.js";
import {kdfInfo} from "../../../../src/peer/channel/key-schedule.js";
import {encodeResp, parseFrame, parseInit, parseResp} from "../../../../src/peer/channel/messages.js";
import {nobleBackend} from "./helpers.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const FIXTURES = join(HERE, "../../../fixtures/replication");
const V = JSON.parse(readFileSync(join(FIXTURES, "channel-vectors.json"), "utf8"));
const pq = nobleBackend;
const h = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, "hex"));
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const sha = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

let initiator: NodeIdentity;
let responder: NodeIdentity;
let state: InitiatorState;
let responded: RespondResult;

beforeAll(async () => {
  await initHashing();
  const ids = (who: "initiator" | "responder"): NodeIdentity =>
    generateIdentity(pq, {mlDsa: h(V.inputs[who].mlDsaSeed), mlKem: h(V.inputs[who].mlKemSeed)});
  initiator = ids("initiator");
  responder = ids("responder");
  state = startInitiator({
    pq,
    initiatorId: h(initiator.nodeId),
    responderId: h(responder.nodeId),
    responderKemPublicKey: responder.mlKem.publicKey,
    timestampMs: V.inputs.timestampMs,
    nonce: h(V.inputs.initiatorNonce),
    ephemeralSeed: h(V.inputs.ephemeralKemSeed),
    encapsSeed: h(V.inputs.staticEncapsM),
  });
  responded = respond({
    pq,
    init: parseInit(h(V.init)),
    kemSecretKey: responder.mlKem.secretKey,
    nonce: h(V.inputs.responderNonce),
    encapsSeed: h(V.inputs.ephemeralEncapsM),
  });
});

describe("channel vectors (gen_channel_vectors.py)", () => {
  it("identities: node IDs and key hashes", () => {
    for (const [id, v] of [[initiator, V.initiator], [responder, V.responder]] as const) {
      expect(id.nodeId).toBe(v.nodeId);
      expect(sha(id.mlDsa.publicKey)).toBe(v.mlDsaPublicKeySha256);
      expect(sha(id.mlKem.publicKey)).toBe(v.mlKemPublicKeySha256);
    }
  });

  it("Init: ephemeral key, static encapsulation, signed message, bytes", () => {
    expect(sha(state.fields.ephemeralKey)).toBe(V.ephemeralPublicKeySha256);
    expect(hex(state.fields.kemCiphertext)).toBe(V.staticKem.cipherText);
    expect(sha(state.fields.kemCiphertext)).toBe(V.staticKem.cipherTextSha256);
    expect(hex(state.staticSecret)).toBe(V.staticKem.sharedSecret);
    expect(sha(state.unsigned)).toBe(V.initUnsignedSha256);
    expect(hex(state.toSign)).toBe(V.initSignedMessage);
    const init = initMessage(state, h(V.initSignature));
    expect(hex(init)).toBe(V.init);
    expect(sha(init)).toBe(V.initSha256);
  });

  it("the stored Init signature (made by pyca) verifies, and only with the channel context", () => {
    const init = parseInit(h(V.init));
    expect(verifyInitSignature(pq, init, initiator.mlDsa.publicKey)).toBe(true);
    expect(verifyInitSignature(pq, init, responder.mlDsa.publicKey)).toBe(false);
    expect(pq.mlDsa65.verify(initiator.mlDsa.publicKey, h(V.initSignedMessage), h(V.initSignature), CTX.NODE_RECORD)).toBe(false);
  });

  it("Resp: ephemeral encapsulation, transcript hash, keys, confirmation, bytes", () => {
    expect(sha(responded.prefix)).toBe(V.respPrefixSha256);
    expect(hex(responded.prefix.subarray(34))).toBe(V.ephemeralKem.cipherText);
    expect(hex(responded.transcriptHash)).toBe(V.transcriptHash);
    expect(hex(kdfInfo("pars-storage/v1/channel key i2r", h(initiator.nodeId), h(responder.nodeId)))).toBe(V.hkdfInfoKeyI2R);
    expect({
      keyI2R: hex(responded.keys.keyI2R),
      keyR2I: hex(responded.keys.keyR2I),
      channelId: hex(responded.keys.channelId),
      confirmKey: hex(responded.keys.confirmKey),
    }).toEqual(V.keys);
    expect(hex(responded.confirm)).toBe(V.confirm);
    expect(hex(responded.toSign)).toBe(V.respSignedMessage);
    const resp = encodeResp(responded.prefix, responded.confirm, h(V.respSignature));
    expect(hex(resp)).toBe(V.resp);
    expect(sha(resp)).toBe(V.respSha256);
  });

  it("the initiator finishes on the stored Resp with the same keys (ephemeral secret from the fixture)", () => {
    const resp = parseResp(h(V.resp));
    expect(hex(pq.mlKem768.decapsulate(resp.ephemeralCiphertext, pq.mlKem768.keygen(h(V.inputs.ephemeralKemSeed)).secretKey))).toBe(
      V.ephemeralKem.sharedSecret,
    );
    const copy = {...state, staticSecret: state.staticSecret.slice(), ephemeralSecretKey: state.ephemeralSecretKey.slice()};
    const done = finishInitiator({pq, state: copy, init: h(V.init), resp, responderDsaPublicKey: responder.mlDsa.publicKey, peer: "r"});
    expect(hex(done.keys.keyI2R)).toBe(V.keys.keyI2R);
    expect(hex(done.keys.channelId)).toBe(V.keys.channelId);
  });

  it("frames: sealed bytes match, and open with the other end's key", () => {
    const channelId = h(V.keys.channelId);
    for (const f of V.frames as Array<{direction: string; sequence: number; plaintext: string; frame: string}>) {
      const i2r = f.direction === "i2r";
      const key = aeadKey(h(i2r ? V.keys.keyI2R : V.keys.keyR2I));
      const type = i2r ? MessageType.FRAME_I2R : MessageType.FRAME_R2I;
      expect(hex(sealFrame(key, type, channelId, f.sequence, h(f.plaintext))), `frame ${f.sequence}`).toBe(f.frame);
      expect(hex(openFrame(key, parseFrame(h(f.frame), 1 << 20))!)).toBe(f.plaintext);
    }
    const keys = {channelId, keyI2R: h(V.keys.keyI2R), keyR2I: h(V.keys.keyR2I), confirmKey: h(V.keys.confirmKey)};
    const first = V.frames[0];
    expect(hex(new Channel("r", "initiator", keys, 0).seal(h(first.plaintext)))).toBe(first.frame);
    expect(hex(new Channel("i", "responder", keys, 0).open(parseFrame(h(first.frame), 1 << 20)).plaintext)).toBe(first.plaintext);
  });
});

function pythonHasPyca(): boolean {
  try {
    execFileSync("python3", ["-c", "from cryptography.hazmat.primitives.asymmetric import mldsa, mlkem"], {stdio: "ignore"});
    return true;
  } catch {
    return false;
  }
}

describe("independent check", () => {
  it.skipIf(!pythonHasPyca())("gen_channel_vectors.py --check recomputes the JSON from the spec", () => {
    const out = execFileSync("python3", [join(FIXTURES, "gen_channel_vectors.py"), "--check"], {encoding: "utf8"});
    expect(out).toContain("OK");
  });
});
