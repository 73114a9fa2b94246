import {shake256} from "@noble/hashes/sha3.js";
import {x25519} from "@noble/curves/ed25519.js";
import {ml_kem768} from "@noble/post-quantum/ml-kem.js";
import {ml_kem768_x25519} from "@noble/post-quantum/hybrid.js";
import {describe, expect, it} from "vitest";
import {blake2b256, generateIdentity, initHashing, nobleBackend, x25519KeyPair, x25519SharedSecret} from "../../../src/crypto/index.js";
import {
  ONION_MAX_HOPS,
  OnionError,
  XWING_LABEL,
  buildOnionRequest,
  hopFromEntry,
  onionSecretKeys,
  openLayer,
  parseEntryBlob,
  xwingCombine,
  type HopPublicKeys,
  type OnionSecretKeys,
  type OpenedLayer,
} from "../../../src/onion/index.js";
import {ONION_ENC_TYPE, deriveLayerKeys, layerInfo, open, seal, sha3, type LayerKeys} from "../../../src/onion/hop-crypto.js";

await initHashing();

interface TestNode {
  pub: HopPublicKeys;
  secret: OnionSecretKeys;
}

function makeNode(seed: number): TestNode {
  const mlKem = nobleBackend.mlKem768.keygen(new Uint8Array(64).fill(seed));
  const x = x25519KeyPair(new Uint8Array(32).fill(seed + 100));
  const nodeId = Buffer.from(blake2b256(mlKem.publicKey)).toString("hex");
  return {
    pub: {nodeId, x25519: x.publicKey, mlKem: mlKem.publicKey},
    secret: {nodeId, x25519Secret: x.secretKey, mlKemSecret: mlKem.secretKey},
  };
}

const nodes = [makeNode(1), makeNode(2), makeNode(3)];
const rpc = Buffer.from(JSON.stringify({method: "info", params: {}}));

/** Walks `blob` through `nodes` as the relays would; returns every opened layer. */
function walk(blob: Uint8Array, path: TestNode[]): OpenedLayer[] {
  const opened: OpenedLayer[] = [];
  let current = blob;
  for (const node of path) {
    const layer = openLayer(node.secret, parseEntryBlob(current));
    opened.push(layer);
    if (layer.kind === "relay") current = layer.nextBlob;
  }
  return opened;
}

function expectOnionError(fn: () => unknown, code: string, body?: string | RegExp): OnionError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(OnionError);
  const err = caught as OnionError;
  expect(err.code).toBe(code);
  expect(err.status).toBe(code === "ONION_ERROR_RESPONSE" ? 502 : 400);
  if (body !== undefined) expect(err.body).toMatch(body);
  return err;
}

describe("X-Wing combiner", () => {
  it("matches @noble/post-quantum ml_kem768_x25519 over component operations (draft key expansion)", () => {
    for (let i = 0; i < 4; i++) {
      const seed = new Uint8Array(32).fill(i * 7 + 1);
      const eseed = new Uint8Array(64).map((_, j) => (j * 13 + i) & 0xff);
      const xw = ml_kem768_x25519.keygen(seed);
      const {cipherText, sharedSecret} = ml_kem768_x25519.encapsulate(xw.publicKey, eseed);
      // draft-connolly-cfrg-xwing-kem: expanded = SHAKE256(sk, 96); d‖z = [0:64] (ML-KEM), sk_X = [64:96].
      const expanded = shake256(seed, {dkLen: 96});
      const kem = ml_kem768.keygen(expanded.subarray(0, 64));
      const skX = expanded.slice(64, 96);
      const pkX = x25519.getPublicKey(skX);
      expect(Buffer.from(xw.publicKey)).toEqual(Buffer.concat([kem.publicKey, pkX]));
      // Encapsulation: ML-KEM with m = eseed[0:32], X25519 ephemeral secret eseed[32:64].
      const {cipherText: ctM, sharedSecret: ssM} = ml_kem768.encapsulate(kem.publicKey, eseed.subarray(0, 32));
      const ePk = x25519KeyPair(eseed.slice(32)).publicKey;
      expect(Buffer.from(cipherText)).toEqual(Buffer.concat([ctM, ePk]));
      // Our combiner over our X25519 (node:crypto) must equal noble's X-Wing shared secret.
      const ssX = x25519SharedSecret(skX, ePk) as Uint8Array;
      expect(Buffer.from(xwingCombine(ssM, ssX, ePk, pkX))).toEqual(Buffer.from(sharedSecret));
      expect(Buffer.from(ml_kem768_x25519.decapsulate(cipherText, xw.secretKey))).toEqual(Buffer.from(sharedSecret));
    }
    expect(Buffer.from(XWING_LABEL).toString("latin1")).toBe("\\.//^\\");
  });
});

describe("onion layers", () => {
  it("carries an RPC body over three hops and the answer back", () => {
    const built = buildOnionRequest(
      nodes.map((n) => n.pub),
      rpc,
    );
    expect(built.firstHop).toBe(nodes[0]?.pub.nodeId);
    const [first, second, last] = walk(built.blob, nodes);
    expect(first).toMatchObject({kind: "relay", destination: nodes[1]?.pub.nodeId, hopNo: 0});
    expect(second).toMatchObject({kind: "relay", destination: nodes[2]?.pub.nodeId, hopNo: 1});
    if (last?.kind !== "final") throw new Error("the third layer must be final");
    expect(last.hopNo).toBe(2);
    expect(Buffer.from(last.rpcBody)).toEqual(rpc);
    const reply = last.encryptResponse(200, {hf: [19, 0], version: [2, 8, 0]});
    expect(typeof reply).toBe("string");
    // Session's default: a JSON body travels double-encoded (as a JSON string).
    expect(built.decryptResponse(reply)).toEqual({status: 200, body: '{"hf":[19,0],"version":[2,8,0]}', hopIndex: 2});
    expect(built.decryptResponse(Buffer.from(reply as string))).toMatchObject({status: 200});
  });

  it("honours json:true and base64:false as Session's wrap_proxy_response", () => {
    const built = buildOnionRequest([nodes[0]?.pub as HopPublicKeys], rpc, {json: true, base64: false});
    const [last] = walk(built.blob, [nodes[0] as TestNode]);
    if (last?.kind !== "final") throw new Error("a one-hop path is final at once");
    const reply = last.encryptResponse(421, {snodes: []});
    expect(reply).toBeInstanceOf(Uint8Array);
    expect(built.decryptResponse(reply)).toEqual({status: 421, body: {snodes: []}, hopIndex: 0});
    const text = last.encryptResponse(503, "Snode not ready");
    expect(built.decryptResponse(text)).toEqual({status: 503, body: "Snode not ready", hopIndex: 0});
  });

  it("refuses a layer sent to the wrong node with a plain 400 Invalid ciphertext", () => {
    const built = buildOnionRequest(
      nodes.map((n) => n.pub),
      rpc,
    );
    const err = expectOnionError(() => openLayer((nodes[1] as TestNode).secret, parseEntryBlob(built.blob)), "ONION_ERROR_DECRYPT", "Invalid ciphertext");
    expect(err.encryptReply).toBeUndefined();
  });

  it("binds the node ID: the right keys under another node ID do not open the layer", () => {
    const built = buildOnionRequest([nodes[0]?.pub as HopPublicKeys], rpc);
    const secret = {...(nodes[0] as TestNode).secret, nodeId: (nodes[1] as TestNode).pub.nodeId};
    expectOnionError(() => openLayer(secret, parseEntryBlob(built.blob)), "ONION_ERROR_DECRYPT");
  });

  it("counts hop_no and refuses paths longer than ONION_MAX_HOPS", () => {
    const path = Array.from({length: ONION_MAX_HOPS}, () => nodes[0] as TestNode);
    const built = buildOnionRequest(
      path.map((n) => n.pub),
      rpc,
    );
    const opened = walk(built.blob, path);
    expect(opened.map((l) => l.hopNo)).toEqual(Array.from({length: ONION_MAX_HOPS}, (_, i) => i));
    expect(opened.at(-1)?.kind).toBe("final");
    expect(() => buildOnionRequest(Array(16).fill(nodes[0]?.pub) as HopPublicKeys[], rpc)).toThrow(/1 to 15 hops/);
    const blob = withControl(built.blob, (c) => ({...c, hop_no: 16}));
    expectOnionError(() => parseEntryBlob(blob), "ONION_ERROR_MAX_HOPS", "onion request max path length exceeded");
    expect(parseEntryBlob(withControl(built.blob, (c) => ({...c, hop_no: -4}))).hopNo).toBe(0);
  });

  it("names the accepted enc_type when another one is sent", () => {
    const built = buildOnionRequest([nodes[0]?.pub as HopPublicKeys], rpc);
    for (const encType of ["aes-gcm", undefined, 7]) {
      const blob = withControl(built.blob, (c) => ({...c, enc_type: encType}));
      expectOnionError(() => parseEntryBlob(blob), "ONION_ERROR_PARSE", /^Error parsing onion request: enc_type .* accepted: xwing-chacha20poly1305$/);
    }
  });
});

function frame(payload: Uint8Array, json: string): Uint8Array {
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32LE(payload.length, 0);
  return Buffer.concat([prefix, payload, Buffer.from(json)]);
}

/** A one-layer entry blob around an arbitrary plaintext (what a broken client could send). */
function sealTo(hop: HopPublicKeys, plaintext: Uint8Array): {blob: Uint8Array; keys: LayerKeys} {
  const e = x25519KeyPair();
  const {cipherText, sharedSecret} = nobleBackend.mlKem768.encapsulate(hop.mlKem);
  const ss = xwingCombine(sharedSecret, x25519SharedSecret(e.secretKey, hop.x25519) as Uint8Array, e.publicKey, hop.x25519);
  const keys = deriveLayerKeys(ss, layerInfo(Buffer.from(hop.nodeId, "hex"), sha3(hop.mlKem), cipherText));
  const control = {ephemeral_key: Buffer.from(e.publicKey).toString("hex"), kem_ct: Buffer.from(cipherText).toString("base64"), enc_type: ONION_ENC_TYPE};
  return {blob: frame(seal(keys.request, new Uint8Array(12), plaintext), JSON.stringify(control)), keys};
}

/** Splits an entry blob and rebuilds it with a changed control object. */
function splitBlob(blob: Uint8Array): {n: number; control: Record<string, unknown>} {
  const n = Buffer.from(blob).readUInt32LE(0);
  return {n, control: JSON.parse(Buffer.from(blob.subarray(4 + n)).toString()) as Record<string, unknown>};
}

function withControl(blob: Uint8Array, change: (c: Record<string, unknown>) => Record<string, unknown>): Uint8Array {
  const {n, control} = splitBlob(blob);
  return Buffer.concat([blob.subarray(0, 4 + n), Buffer.from(JSON.stringify(change(control)))]);
}

describe("malformed input never throws anything but OnionError", () => {
  const built = buildOnionRequest(
    nodes.map((n) => n.pub),
    rpc,
  );
  const {n, control} = splitBlob(built.blob);
  const secret = (nodes[0] as TestNode).secret;
  const attempt = (blob: Uint8Array): void => {
    openLayer(secret, parseEntryBlob(blob));
  };

  it("rejects malformed framing and control objects with 400 Error parsing onion request", () => {
    const u32 = (v: number): Buffer => {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(v, 0);
      return b;
    };
    const cases: Uint8Array[] = [
      new Uint8Array(0),
      Uint8Array.of(1, 2, 3),
      built.blob.subarray(0, 4 + n - 1),
      Buffer.concat([u32(0xffffffff), built.blob.subarray(4)]),
      Buffer.concat([built.blob.subarray(0, 4 + n), Buffer.from("{not json")]),
      Buffer.concat([built.blob.subarray(0, 4 + n), Buffer.from("[1,2]")]),
      Buffer.concat([built.blob.subarray(0, 4 + n), Buffer.from([0xff, 0xfe])]),
      withControl(built.blob, (c) => ({...c, ephemeral_key: "zz".repeat(32)})),
      withControl(built.blob, (c) => ({...c, ephemeral_key: "ab".repeat(31)})),
      withControl(built.blob, (c) => ({...c, ephemeral_key: 5})),
      withControl(built.blob, (c) => ({...c, kem_ct: "!!" + String(c.kem_ct).slice(2)})),
      withControl(built.blob, (c) => ({...c, kem_ct: String(c.kem_ct).slice(4)})),
      withControl(built.blob, (c) => ({...c, kem_ct: null})),
      withControl(built.blob, (c) => ({...c, hop_no: 1.5})),
      withControl(built.blob, (c) => ({...c, hop_no: "1"})),
    ];
    for (const blob of cases) expectOnionError(() => attempt(blob), "ONION_ERROR_PARSE", /^Error parsing onion request: /);
  });

  it("rejects tampered ciphertext, KEM ciphertext and ephemeral key with 400 Invalid ciphertext", () => {
    const flip = (bytes: Uint8Array, at: number): Uint8Array => {
      const copy = Uint8Array.from(bytes);
      copy[at] = (copy[at] as number) ^ 1;
      return copy;
    };
    const kem = Buffer.from(String(control.kem_ct), "base64");
    const eph = Buffer.from(String(control.ephemeral_key), "hex");
    const cases: Uint8Array[] = [
      flip(built.blob, 4), // nonce
      flip(built.blob, 4 + 20), // ciphertext body
      flip(built.blob, 4 + n - 1), // tag
      withControl(built.blob, (c) => ({...c, kem_ct: Buffer.from(flip(kem, 100)).toString("base64")})),
      withControl(built.blob, (c) => ({...c, ephemeral_key: Buffer.from(flip(eph, 3)).toString("hex")})),
      withControl(built.blob, (c) => ({...c, ephemeral_key: "00".repeat(32)})), // small order: all-zero DH
      withControl(built.blob, (c) => ({...c, ephemeral_key: "01" + "00".repeat(31)})),
      Buffer.concat([Buffer.alloc(4), Buffer.from(JSON.stringify(control))]), // empty ciphertext
      Buffer.concat([Uint8Array.of(10, 0, 0, 0), Buffer.alloc(10), Buffer.from(JSON.stringify(control))]),
    ];
    for (const blob of cases) expectOnionError(() => attempt(blob), "ONION_ERROR_DECRYPT", "Invalid ciphertext");
  });

  it("survives random byte flips and truncations of the whole blob", () => {
    let state = 12345;
    const rand = (m: number): number => {
      state = (state * 1103515245 + 12345) & 0x7fffffff;
      return state % m;
    };
    for (let i = 0; i < 300; i++) {
      const copy = Uint8Array.from(built.blob.subarray(0, built.blob.length - rand(3) * rand(200)));
      for (let k = 0; k <= rand(3); k++) {
        const at = rand(copy.length);
        copy[at] = (copy[at] as number) ^ (1 + rand(255));
      }
      try {
        attempt(copy);
      } catch (err) {
        expect(err).toBeInstanceOf(OnionError);
      }
    }
  });

  it("a layer that decrypts but is malformed is refused with a reply sealed to this hop", () => {
    const node = nodes[0] as TestNode;
    const cases: [Uint8Array, string][] = [
      [Buffer.from("xx"), "Invalid json"],
      [frame(rpc, "not json"), "Invalid json"],
      [frame(rpc, JSON.stringify({headers: {}, base64: "no"})), "Invalid onion layer: base64 must be a boolean"],
      [frame(rpc, JSON.stringify({host: "example.org", target: "/oxen/v4/lsrpc"})), "Invalid onion layer: relaying to external servers (host) is not supported"],
      [frame(rpc, JSON.stringify({destination: "ab"})), "Invalid onion layer: destination must be a node ID (64 hex chars)"],
      [frame(rpc, JSON.stringify({destination: node.pub.nodeId, enc_type: "xwing-chacha20poly1305"})), "Invalid onion layer: ephemeral_key must be 64 hex chars (an X25519 public key)"],
    ];
    for (const [plaintext, body] of cases) {
      const {blob, keys} = sealTo(node.pub, plaintext);
      const err = expectOnionError(() => openLayer(node.secret, parseEntryBlob(blob)), "ONION_ERROR_INVALID_LAYER", body);
      const reply = Buffer.from(err.encryptReply?.(400, body) ?? "", "base64");
      expect(JSON.parse(Buffer.from(open(keys.response, reply) ?? []).toString())).toEqual({status: 400, body});
    }
  });

  it("a response that does not decrypt is an OnionError, not a crash", () => {
    expectOnionError(() => built.decryptResponse("Next node not found: abc"), "ONION_ERROR_RESPONSE");
    expectOnionError(() => built.decryptResponse(new Uint8Array(3)), "ONION_ERROR_RESPONSE");
  });
});

describe("keys from an identity and from published entries", () => {
  it("a loaded identity opens layers built from its snode entry", () => {
    const id = generateIdentity(nobleBackend);
    const entry = {
      node_id: id.nodeId,
      pubkey_mldsa: "…",
      pubkey_mlkem: Buffer.from(id.mlKem.publicKey).toString("base64"),
      pubkey_x25519: Buffer.from(id.x25519?.publicKey ?? []).toString("hex"),
    };
    const hop = hopFromEntry(entry) as HopPublicKeys;
    const built = buildOnionRequest([hop], rpc);
    expect(openLayer(onionSecretKeys(id), parseEntryBlob(built.blob))).toMatchObject({kind: "final", hopNo: 0});
  });

  it("refuses entries and identities without usable onion keys", () => {
    const id = generateIdentity(nobleBackend);
    const good = {node_id: id.nodeId, pubkey_mlkem: Buffer.from(id.mlKem.publicKey).toString("base64"), pubkey_x25519: "ab".repeat(32)};
    expect(hopFromEntry(good)).not.toBeNull();
    for (const bad of [
      {...good, pubkey_x25519: undefined},
      {...good, pubkey_x25519: "AB".repeat(32)},
      {...good, pubkey_mlkem: good.pubkey_mlkem.slice(4)},
      {...good, node_id: 7},
    ]) {
      expect(hopFromEntry(bad)).toBeNull();
    }
    expect(() => onionSecretKeys({...id, x25519: undefined})).toThrow(/no X25519 key/);
  });
});
