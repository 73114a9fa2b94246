/**
 * The storage writer thread's entry (see writer-thread.ts): it owns the write connection to the
 * store's database file and runs every write the main thread posts, group-committed by the same
 * WriteBatcher and the same write functions (write-ops.ts) the inline mode runs.
 */
import {parentPort, workerData, type MessagePort} from "node:worker_threads";
import {StorageDb} from "./db.js";
import {prepareRevocations} from "./revocations.js";
import {prepareStatements} from "./statements.js";
import {sqliteSweepBatches} from "./ttl-sweeper.js";
import {WriteBatcher, type WriteOutcome} from "./write-batcher.js";
import {runWriteOp, toWireError, type WriteOpContext} from "./write-ops.js";
import type {BatchResult, ToWorker, WriterThreadData, FromWorker} from "./writer-thread.js";

const port = portOf();

const post = (m: FromWorker): void => port.postMessage(m);

try {
  start(workerData as WriterThreadData);
} catch (err) {
  post({type: "fatal", error: toWireError(err)});
}

function start(data: WriterThreadData): void {
  const db = StorageDb.open(data.db, Date.now());
  const st = prepareStatements(db.sqlite);
  // The main thread's clock: each batch carries its `now`, so a test's fake clock rules here too.
  let now = 0;
  const ctx: WriteOpContext = {st, rst: prepareRevocations(db), clock: {now: () => now}, mailboxMaxMessages: data.mailboxMaxMessages};
  let commits: number[] = [];
  const batcher = new WriteBatcher(
    {maxBatchWrites: data.maxBatchWrites},
    {
      db: db.sqlite,
      // Kept as thrown: the main thread maps errors (it knows the effective size limit).
      mapError: (err) => (err instanceof Error ? err : new Error(String(err))),
      onCommit: (outcomes) => commits.push(outcomes.length),
      onFlushed: () => undefined,
    },
  );
  const sweep = sqliteSweepBatches(db.sqlite, st);

  port.on("message", (m: ToWorker) => {
    if (m.type === "batch") {
      now = m.now;
      // The whole outcome is the write's value, so the main thread gets what onCommit would.
      const settled = m.ops.map((op) =>
        batcher.enqueue(() => {
          const outcome = runWriteOp(ctx, op);
          return {...outcome, value: op.t === "store" ? withoutAdded(outcome) : outcome};
        }),
      );
      batcher.flush();
      const done = commits;
      commits = [];
      void Promise.allSettled(settled).then((results) => {
        const out: BatchResult[] = results.map((r) =>
          r.status === "fulfilled" ? {ok: true, outcome: r.value} : {ok: false, error: toWireError(r.reason)},
        );
        post({type: "batch", id: m.id, results: out, commits: done});
      });
    } else if (m.type === "sweep") {
      try {
        const value = m.kind === "expired" ? sweep.expired(m.cutoff, m.limit) : sweep.owners(m.limit);
        post({type: "sweep", id: m.id, ok: true, value});
      } catch (err) {
        post({type: "sweep", id: m.id, ok: false, error: toWireError(err)});
      }
    } else if (m.type === "crash") {
      // Tests only: dies the way a native fault would, with nothing answered.
      process.exit(3);
    } else {
      batcher.drain();
      db.close();
      post({type: "closed"});
      port.close();
    }
  });
  post({type: "ready"});
}

function portOf(): MessagePort {
  if (parentPort === null) throw new Error("writer-worker.ts runs as a worker thread");
  return parentPort;
}

/** A store's added message is the main thread's own (it rebuilds it): its data need not travel back. */
function withoutAdded(outcome: WriteOutcome<unknown>): WriteOutcome<unknown> {
  const {added: _added, ...rest} = outcome;
  return rest;
}
