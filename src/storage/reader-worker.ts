/**
 * The retrieve reader thread's entry (see reader-thread.ts): a read-only connection to the store's
 * database file that reads the pages of retrieves the main thread has already checked and makes
 * each answer's JSON text, handed back in one message per answer.
 */
import {parentPort, workerData, type MessagePort} from "node:worker_threads";
import {openReadOnly} from "./db.js";
import * as reads from "./message-reads.js";
import {pageJson, pageSizeOf} from "./reader-json.js";
import type {ReaderFromWorker, ReaderThreadData, ReaderToWorker, PageJob} from "./reader-thread.js";
import {prepareStatements} from "./statements.js";

const port = portOf();
const post = (m: ReaderFromWorker): void => port.postMessage(m);

try {
  start(workerData as ReaderThreadData);
} catch (err) {
  post({type: "fatal", message: err instanceof Error ? err.message : String(err)});
}

function start(data: ReaderThreadData): void {
  const db = openReadOnly(data.path, data.busyTimeoutMs);
  const st = prepareStatements(db);
  // One read transaction per page: its statements see one snapshot, taken when it begins, so every
  // commit acknowledged before the job was posted is in it.
  const readPage = db.transaction((job: PageJob) =>
    reads.retrieve(st, job.now, {...job, sizeOf: pageSizeOf}),
  );
  port.on("message", (m: ReaderToWorker) => {
    if (m.type === "pages") {
      for (const job of m.jobs) answer(job);
    } else if (m.type === "crash") {
      // Tests only: dies the way a native fault would, with nothing answered.
      process.exit(3);
    } else {
      db.close();
      post({type: "closed"});
      port.close();
    }
  });
  post({type: "ready"});

  function answer(job: PageJob): void {
    let text: string;
    let more: boolean;
    try {
      const page = readPage(job);
      more = page.more;
      text = pageJson(page.messages, more, job.tail);
    } catch {
      // The main thread reads this page itself, and answers whatever error that gives.
      post({type: "page", id: job.id, ok: false});
      return;
    }
    // A string, cloned into the main thread's heap as one flat copy: written with res.end like the
    // event loop's own text. (A Buffer per answer, transferred, cost the main thread more: its
    // external memory drives V8's incremental marking; docs/benchmarks.md "Session 9: retrieve".)
    post({type: "page", id: job.id, ok: true, more, text});
  }
}

function portOf(): MessagePort {
  if (parentPort === null) throw new Error("reader-worker.ts must run as a worker thread");
  return parentPort;
}
