export {RegistrySource, REGISTRY_RETRY_START_MS, type RegistrySourceModules, type RegistrySourceOptions} from "./registry-source.js";
export {
  MEMBERSHIP_MAX_DOCUMENT_BYTES,
  type MembershipDocument,
  type MembershipSource,
  type MembershipSourceEvents,
} from "./source.js";
export {StaticFileSource, type StaticFileSourceModules, type StaticFileSourceOptions} from "./static-file-source.js";
