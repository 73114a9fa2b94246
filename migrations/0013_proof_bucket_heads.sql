-- 0013_proof_bucket_heads: the head of every stored bucket record (0008) beside it, so a restart
-- loads only the heads (issue #16 item 1, docs/PROTOCOL.md (Storage proofs) §2.5). Since the engine
-- keeps records on disk and only heads in memory, a load needs 48 bytes a bucket, but reading them
-- out of `proof_buckets` read every page of its records (~2 KB a bucket, 512 MB at 10 M messages).
--
-- One row per row of proof_buckets, written in the same transaction: the generation, the record's
-- length, and its first 48 bytes (root, smallest expiry, byte total: src/proofs/bucket.ts; empty for
-- an empty record). A loader checks the heads against the header's digest as before; a record read
-- later must match its head.
CREATE TABLE proof_bucket_heads (
  bucket INTEGER PRIMARY KEY,
  generation INTEGER NOT NULL,
  length INTEGER NOT NULL,
  head BLOB NOT NULL
);

INSERT INTO proof_bucket_heads (bucket, generation, length, head)
  SELECT bucket, generation, length(record), substr(record, 1, 48) FROM proof_buckets;
