/** JSON form of a leaf: {messageHash, account, namespace, expiry, size, dataDigest (hex)}. */
import {exactObject, hexBytes, integer, safeU64, type Json} from "./codec.js";
import {NODE_BYTES} from "./constants.js";
import {malformed} from "./errors.js";
import {decodeMessageHash, decodeAccountHex, type LeafFields} from "./leaf.js";

export function leafToJson(l: LeafFields): Json {
  return {
    messageHash: l.messageHash,
    account: l.account,
    namespace: l.namespace,
    expiry: l.expiry,
    size: l.size,
    dataDigest: Buffer.from(l.dataDigest).toString("hex"),
  };
}

export function leafFromJson(value: unknown, field: string): LeafFields {
  const o = exactObject(value, field, ["messageHash", "account", "namespace", "expiry", "size", "dataDigest"]);
  if (decodeMessageHash(o.messageHash) === null) throw malformed(`${field}.messageHash`, "must be a canonical 43-char hash");
  decodeAccountHex(o.account, `${field}.account`);
  return {
    messageHash: o.messageHash as string,
    account: o.account as string,
    namespace: integer(o.namespace, `${field}.namespace`, -32768, 32767),
    expiry: safeU64(o.expiry, `${field}.expiry`),
    size: integer(o.size, `${field}.size`, 0, 0xffff_ffff),
    dataDigest: hexBytes(o.dataDigest, `${field}.dataDigest`, NODE_BYTES),
  };
}
