-- 0012_proof_top_pages: the persisted commitment's top tree (0008 kept it as one 4 MB blob in the
-- header row) is written as 64 KB pages, each in its own short transaction, so the commitment worker
-- answers finds between them instead of stalling ~30 ms on one write every refresh (issue #16 item 3,
-- docs/PROTOCOL.md (Storage proofs) §2.5). Each page is stamped with the generation it was written
-- for; a header whose `top` is empty takes its tree from the pages of its own generation, and if any
-- is missing or older (a write a crash cut short) the loader hashes the tree again from the buckets.
CREATE TABLE proof_top_pages (
  page INTEGER PRIMARY KEY,
  generation INTEGER NOT NULL,
  bytes BLOB NOT NULL
);
