export {HTTP} from "./errors.js";
export {RpcHandler} from "./handler.js";
export {ACCESS, parseToken, sigMessage, verifyRequest} from "./auth.js";
export type {RequestAuth, Subaccount} from "./auth.js";
