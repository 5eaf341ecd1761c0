-- The short, unguessable code under which anyone verifies a document on the public
-- pages: its QR code opens {public_base_url}/v/{code} (issue 13). Documents issued
-- before get one too (their QR codes still carry their names).
ALTER TABLE documents ADD COLUMN public_code TEXT;
UPDATE documents SET public_code = lower(hex(randomblob(10))) WHERE public_code IS NULL;
CREATE UNIQUE INDEX documents_public_code ON documents (public_code);
