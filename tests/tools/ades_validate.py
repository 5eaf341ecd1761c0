#!/usr/bin/env python3
"""AdES (ETSI EN 319 102-1) validation of every signature in a PDF, via pyHanko.

Usage:
  ades_validate.py --trust ROOT.pem [--trust CA.pem ...] [--crl FILE ...]
                   [--validation-time ISO8601] [--no-revocation-check] FILE.pdf

Prints one JSON object on stdout:
  {"signatures": [{"field", "indication", "sub_indication", "signer",
                   "timestamp", "intact", "pdf_integrity", "detail"}, ...]}
Exit status is 0 whenever the PDF could be parsed (callers compare the
indications); usage or parse errors exit non-zero with a message on stderr.

Tested with pyHanko 0.38.0 / pyhanko-certvalidator 0.33.0. Never goes online.

Which pyHanko building block is used per signature:

* Signature WITH a signature timestamp (CMS unsigned attribute
  signatureTimeStampToken): `ades_with_time_validation` (EN 319 102-1 §5.5).
  It runs the basic validation at the validation time; if the signer
  certificate has expired by then (INDETERMINATE/OUT_OF_BOUNDS_NO_POE) it
  validates the timestamp and uses its time as proof of existence (POE).
* Signature WITHOUT one: `ades_basic_validation` (§5.3). In §5.5 a missing
  timestamp just means best-signature-time = validation time, so the result is
  the §5.3 one; pyHanko's `ades_with_time_validation` instead hard-fails such
  signatures with INDETERMINATE/SIG_CONSTRAINTS_FAILURE ("No signature
  timestamp present", pyhanko/sign/validation/ades.py, `_scoped_ades_with_time_
  validation`, under "TODO conditionally enforce this based on policy params").
* `ades_lta_validation` (§5.6) is NOT used: its past-signature-validation step
  runs the time-slide algorithm, which demands revocation info for every
  certificate (pyhanko_certvalidator/ltv/time_slide.py: `raise
  InsufficientRevinfoError(... "No revocation info from before ...")`), and it
  also needs CRL/OCSP for the leaf to accept a POE (ades.py,
  `_pass_contingent_on_revinfo_issuance_poe`). Without revocation info every
  signature comes out INDETERMINATE/NO_POE, even the valid ones.
"""

import argparse
import asyncio
import json
import logging
import sys
from datetime import datetime, timezone

from asn1crypto import crl as asn1_crl
from asn1crypto import pem
from pyhanko.keys import load_certs_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESIndeterminate, AdESStatus
from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY
from pyhanko.sign.validation import ades, generic_cms
from pyhanko.sign.validation.policy_decl import (
    CertificateFetchingRule,
    LocalKnowledge,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.ltv.types import ValidationTimingInfo
from pyhanko_certvalidator.policy_decl import (
    NO_REVOCATION,
    REQUIRE_REVINFO,
    CertRevTrustPolicy,
)
from pyhanko_certvalidator.registry import SimpleTrustManager
from pyhanko_certvalidator.revinfo.archival import CRLContainer

INDICATION = {
    AdESStatus.PASSED: 'TOTAL_PASSED',
    AdESStatus.FAILED: 'TOTAL_FAILED',
    AdESStatus.INDETERMINATE: 'INDETERMINATE',
}


def load_crls(paths):
    """Read CRLs from PEM (possibly several per file) or DER files."""
    crls = []
    for path in paths:
        with open(path, 'rb') as f:
            data = f.read()
        if pem.detect(data):
            ders = [der for _, _, der in pem.unarmor(data, multiple=True)]
        else:
            ders = [data]
        crls += [CRLContainer(asn1_crl.CertificateList.load(d)) for d in ders]
    return crls


def build_spec(trust_files, crl_files, no_revocation_check):
    roots = list(load_certs_from_pemder(trust_files))
    crls = load_crls(crl_files)
    # Revocation policy. There is no network access (LOCAL_ONLY below), so the
    # given CRLs are the only possible source of revocation info.
    # * CRLs given (and no --no-revocation-check): revocation info is REQUIRED
    #   for every non-anchor certificate (signers, TSAs, intermediates) and
    #   must come from those CRLs: a revoked certificate gives REVOKED(_NO_POE),
    #   a certificate none of them covers gives INDETERMINATE.
    # * Otherwise: revocation is not checked at all (NO_REVOCATION). Requiring
    #   it would turn every signature INDETERMINATE merely because no
    #   revocation info exists (the dev certificates declare no CRL
    #   distribution point and no OCSP), so the indication reflects chain +
    #   validity period/POE + integrity only. (pyHanko's CHECK_IF_DECLARED mode
    #   would be equivalent here but ignores supplied CRLs for certificates
    #   without a distribution point, hence the two explicit modes.)
    use_crls = bool(crls) and not no_revocation_check
    cert_policy = CertValidationPolicySpec(
        trust_manager=SimpleTrustManager.build(trust_roots=roots),  # only these
        revinfo_policy=CertRevTrustPolicy(
            REQUIRE_REVINFO if use_crls else NO_REVOCATION
        ),
    )
    return SignatureValidationSpec(
        cert_validation_policy=cert_policy,
        revinfo_gathering_policy=RevocationInfoGatheringSpec(
            online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY,
            certificate_fetching_rule=CertificateFetchingRule.NEVER_FETCH,
        ),
        local_knowledge=LocalKnowledge(known_crls=crls if use_crls else []),
    )


def pdf_integrity(emb):
    """PDF-level check that AdES itself does not do: does the signature cover
    its whole revision, and are later incremental updates allowed (DocMDP /
    pyHanko's default diff policy)? Returns (summary label, ok)."""
    emb.compute_integrity_info(diff_policy=DEFAULT_DIFF_POLICY)
    info = emb.summarise_integrity_info()
    coverage, diff = info['coverage'], info.get('diff_result')
    if coverage == SignatureCoverageLevel.ENTIRE_FILE:
        return 'UNTOUCHED', True
    if coverage != SignatureCoverageLevel.ENTIRE_REVISION:
        return 'NONSTANDARD_COVERAGE', False
    level = getattr(diff, 'modification_level', None)
    label = 'EXTENDED_WITH_' + level.name if level else 'EXTENDED'
    return label, info.get('docmdp_ok') is not False


async def validate_one(emb, spec, timing):
    sig_ts = generic_cms.extract_tst_data_iter(emb.signer_info, signed=False)
    if next(sig_ts, None) is not None:
        res = await ades.ades_with_time_validation(
            emb.signed_data, spec, timing_info=timing,
            raw_digest=emb.compute_digest())
    else:
        res = await ades.ades_basic_validation(
            emb.signed_data, spec, timing_info=timing,
            raw_digest=emb.compute_digest())
    subindic, detail = res.ades_subindic, res.failure_msg
    status = res.api_status

    # Time proven by the signature timestamp: only set when pyHanko validated
    # the token (it then attaches it to the status as timestamp_validity).
    ts = getattr(status, 'timestamp_validity', None)
    ts_time = ts.timestamp if ts is not None else None

    # Gap in pyHanko's §5.5: on OUT_OF_BOUNDS_NO_POE it only checks the POE
    # against the certificate's notBefore ("we can't process expiration
    # here", ades.py). A timestamp made AFTER the certificate expired proves
    # nothing, so keep OUT_OF_BOUNDS_NO_POE then, as pyHanko's own §5.6.2.4
    # past validation does (`best_signature_time <= cert.not_valid_after`).
    cert = emb.signer_cert
    if (subindic.status == AdESStatus.PASSED and ts_time is not None
            and ts_time > cert.not_valid_after):
        subindic = AdESIndeterminate.OUT_OF_BOUNDS_NO_POE
        detail = 'signature timestamp is later than signer certificate expiry'

    label, pdf_ok = pdf_integrity(emb)
    indication = INDICATION[subindic.status]
    sub = '' if subindic.status == AdESStatus.PASSED else subindic.name
    if not pdf_ok and indication != 'TOTAL_FAILED':
        # Content changed by a later revision beyond what the signer allowed:
        # the document shown is no longer what was signed.
        indication, sub = 'TOTAL_FAILED', 'HASH_FAILURE'
        detail = f'disallowed changes after signing ({label})'

    return {
        'field': emb.field_name,
        'indication': indication,
        'sub_indication': sub,
        'signer': cert.subject.human_friendly,
        'timestamp': ts_time.isoformat() if ts_time else None,
        'intact': bool(status is not None and status.intact),
        'pdf_integrity': label,
        'detail': detail,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--trust', action='append', required=True,
                    help='trust anchor certificate (PEM/DER), repeatable')
    ap.add_argument('--crl', action='append', default=[],
                    help='CRL file (PEM/DER) to use as revocation info')
    ap.add_argument('--validation-time', help='ISO 8601; default: now')
    ap.add_argument('--no-revocation-check', action='store_true')
    ap.add_argument('pdf')
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)  # keep pyHanko's warnings quiet

    try:
        spec = build_spec(args.trust, args.crl, args.no_revocation_check)
        if args.validation_time:
            t = datetime.fromisoformat(args.validation_time.strip())
            if t.tzinfo is None:
                t = t.replace(tzinfo=timezone.utc)
            timing = ValidationTimingInfo(t, t, point_in_time_validation=True)
        else:
            timing = ValidationTimingInfo.now()
        f = open(args.pdf, 'rb')
        sigs = PdfFileReader(f).embedded_regular_signatures
    except Exception as e:  # noqa: BLE001 -- any failure here is fatal
        print(f'ades_validate: {type(e).__name__}: {e}', file=sys.stderr)
        sys.exit(2)

    results = []
    for emb in sigs:
        try:
            results.append(asyncio.run(validate_one(emb, spec, timing)))
        except Exception as e:  # noqa: BLE001 -- report, keep going
            results.append({
                'field': emb.field_name, 'indication': 'INDETERMINATE',
                'sub_indication': 'GENERIC', 'signer': None,
                'timestamp': None, 'intact': False, 'pdf_integrity': None,
                'detail': f'{type(e).__name__}: {e}',
            })
    json.dump({'signatures': results}, sys.stdout, ensure_ascii=False,
              indent=1)
    print()


if __name__ == '__main__':
    main()
