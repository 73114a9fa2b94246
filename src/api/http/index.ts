export {buildHttpApp} from "./app.js";
export {instrumentHttp, MetricsServer, registerMetricsRoute, METRICS_PATH, type MetricsSource} from "./metrics.js";
