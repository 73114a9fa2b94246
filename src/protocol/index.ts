/**
 * The protocol's shared vocabulary (docs/PROTOCOL.md Part I): accounts, byte encodings,
 * namespaces, identifier sizes, Session's RPC limits and the transport-independent response types.
 * Pure data and functions; it imports nothing of the project, and every layer above may use it.
 */
export * from "./account.js";
export * from "./claim-message.js";
export * from "./encoding.js";
export * from "./identity.js";
export * from "./limits.js";
export * from "./namespace.js";
export * from "./receipt-batch.js";
export type * from "./response.js";
