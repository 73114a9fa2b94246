export {buildHttpApp} from "./app.js";
export {loadGc} from "./memory-release.js";
