-- 0006_message_digests: SHA-256 of each message's data, computed once when the message is written.
-- The storage-proof commitment (src/proofs/) binds this digest in every leaf; keeping it here means
-- building or rebuilding the commitment reads ~100 bytes per message instead of all of its data
-- (10 GB on a full node). Rows written before this migration have NULL; the commitment computes
-- their digest from the data when it first reads them and stores it (docs/PROTOCOL.md (Storage
-- proofs) §2). A possession answer still reads the data itself.
ALTER TABLE messages ADD COLUMN data_digest BLOB;
