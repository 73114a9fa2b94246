export {HTTP} from "./errors.js";
export {RPC_METHOD_NAMES, RpcHandler} from "./handler.js";
export {RequestPipeline, TOO_MANY_REQUESTS} from "./pipeline.js";
export type {ParsedRpcRequest, RequestPipelineModules, RequestSource, RpcInput, RpcTransport} from "./pipeline.js";
export {ACCESS, parseToken, sigMessage, verifyRequest} from "./auth.js";
export type {RequestAuth, Subaccount} from "./auth.js";
export {responseJson} from "./response-json.js";
