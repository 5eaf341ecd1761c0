-- The certificate a signing session was prepared for (SHA-256 of its DER): its
-- visible box names that signer, so only a CMS by the same certificate completes it.
ALTER TABLE signing_sessions ADD COLUMN signer_certificate_sha256 TEXT;
