export {DEFAULT_SWARM_MODE, SWARM_MODES, assignSwarms, type SwarmAssignment, type SwarmMember, type SwarmMode} from "./assignment.js";
export {balancedAssignment, balancedGroupStarts, type BalancedInput} from "./balanced.js";
export {
  SwarmEvent,
  diffViews,
  type AnySwarmEvent,
  type DiffableMember,
  type SwarmEventData,
  type SwarmEventMap,
  type SwarmEventOf,
} from "./events.js";
export {
  ACCOUNT_ID_HEX_CHARS,
  MAX_NODES_PER_SWARM,
  MIN_NODES_PER_SWARM,
  NO_SWARM_ID,
  TARGET_NODES_PER_SWARM,
  nodeSwarm,
  normaliseAccountId,
  sha256Prefix64,
  swarmCount,
  swarmIdFromWire,
  swarmIdToWire,
  userSwarm,
} from "./mapping.js";
export {deriveNodeIdHex} from "./node-id.js";
export {
  nodeRecordPayload,
  nodeRecordToJson,
  signNodeRecord,
  verifiedRecordKey,
  verifyNodeRecord,
  type StakeEligibilityCheck,
  type VerifyNodeRecordOptions,
} from "./node-record.js";
export {encodeNodeRecordPayload} from "./record-payload.js";
export * from "./record-types.js";
export {
  REGISTRY_DOCUMENT_VERSION,
  REGISTRY_MAX_NODES,
  parseNodeRecords,
  type ParseNodeRecordsOptions,
  type ParsedMembership,
  type RegistryErrorCode,
  type RegistryRejection,
} from "./registry.js";
export {tlsEntry, toSnodeEntry, type SnodeEntry} from "./snode-entry.js";
export {SwarmView, buildSwarmView, type AccountSwarm} from "./view.js";
export * from "./membership/index.js";
export {
  MEMBERSHIP_UPDATED,
  MembershipService,
  type ApplyResult,
  type MembershipServiceEvents,
  type MembershipServiceModules,
  type MembershipServiceOptions,
  type MembershipSnapshot,
} from "./membership-service.js";
export {ownRecordFields, parseVersion, signOwnRecord, type OwnRecordInput, type StakeShareConfig} from "./own-record.js";
export {
  MembershipRouter,
  NOT_READY_MEMBERSHIP_NOT_LOADED,
  NOT_READY_NOT_IN_SWARM,
  type MembershipProvider,
  type MembershipRouterModules,
} from "./router.js";
export {ServingMap, type ServingSwarm} from "./serving.js";
export {SingleNodeRouter} from "./swarm-router.js";
export type {SwarmMemberJson, SwarmRouter} from "./swarm-router.js";
export {fromBase64Strict, fromHexStrict} from "./encoding.js";
