-- Documents in an object store (documents_url = "s3://bucket/prefix"): such a row keeps
-- its PDF and CMS empty and names them by their SHA-256 (object keys
-- {prefix}/documents/{sha256}.pdf and .p7s); pdf_size keeps the PDF's length either way.
ALTER TABLE documents ADD COLUMN in_object_store INTEGER NOT NULL DEFAULT 0
    CHECK (in_object_store IN (0, 1));
ALTER TABLE documents ADD COLUMN pdf_size INTEGER NOT NULL DEFAULT 0;
UPDATE documents SET pdf_size = length(pdf);
