import {configDefaults, defineConfig} from "vitest/config";

/** Scale and fuzz tests of single modules: seconds each, so kept out of the quick unit suite. */
const SLOW = "test/unit/**/*.slow.test.ts";

// Unit tests run in worker threads; integration and e2e tests start real servers and child
// processes, so they run in forked processes one file at a time to keep ports and CPU calm on
// the 2-core CI machines. `slow` (npm test, not npm run test:unit) holds the unit-level tests
// that are slow by design: full-size trees, exhaustive sweeps, fuzzing.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          exclude: [...configDefaults.exclude, SLOW],
          pool: "threads",
          // Files share their worker's module graph: loading fastify, the noble and liboqs code
          // and the proof engine once per worker instead of once per file was most of the
          // suite's time. Unit tests must therefore leave no module state, timer or fake clock behind.
          isolate: false,
          testTimeout: 20_000,
        },
      },
      {test: {name: "slow", include: [SLOW], pool: "threads", testTimeout: 120_000}},
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          pool: "forks",
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          pool: "forks",
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
