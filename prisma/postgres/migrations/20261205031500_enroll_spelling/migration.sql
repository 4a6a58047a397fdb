-- "enrol" is spelled "enroll" everywhere now: rename the stored SSH job kind.
-- Audit rows keep their old action names: they are hash-chained, and readers accept both names.
UPDATE "SshJob" SET "kind" = 'enroll' WHERE "kind" = 'enrol';
