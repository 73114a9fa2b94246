/** The membership as a PeerDirectory: a node's address is the one its record in the current snapshot names. */
import type {MembershipSnapshot} from "../swarm/index.js";
import type {PeerDirectory} from "./peer-client.js";

export function membershipDirectory(membership: {readonly snapshot: MembershipSnapshot | null}): PeerDirectory {
  return {
    addressOf(nodeId) {
      const r = membership.snapshot?.view.node(nodeId) ?? null;
      return r === null ? null : {nodeId, host: r.host, port: r.port};
    },
  };
}
