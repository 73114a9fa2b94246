/** The membership as a PeerDirectory: a node's address is the one its record in the current snapshot names. */
import {toHex} from "../protocol/index.js";
import type {MembershipSnapshot, NodeRecord} from "../swarm/index.js";
import type {PeerAddress, PeerDirectory} from "./peer-client.js";

export function membershipDirectory(membership: {readonly snapshot: MembershipSnapshot | null}): PeerDirectory {
  return {
    addressOf(nodeId) {
      const r = membership.snapshot?.view.node(nodeId) ?? null;
      return r === null ? null : peerAddress(r);
    },
  };
}

/** Where a node's record says it is: host, port and (an HTTPS node) its TLS pin. */
export function peerAddress(record: Pick<NodeRecord, "nodeId" | "host" | "port" | "tlsSpkiSha256">): PeerAddress {
  const {nodeId, host, port, tlsSpkiSha256: pin} = record;
  return pin === undefined ? {nodeId, host, port} : {nodeId, host, port, tlsSpkiSha256: toHex(pin)};
}
