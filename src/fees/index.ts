export {FeeService, defaultFeeServiceOptions, networkOrOwnLoad, quoteJson} from "./fee-service.js";
export type {FeeQuoteJson} from "./fee-service.js";
