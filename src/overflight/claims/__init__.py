"""Imaging-claim verification: could this satellite have imaged this place at this time?

``model`` (data types), ``parse`` (claims and claims files), ``evidence`` (element sets and
geometry), ``rules`` (findings and the verdict), ``report`` (words), ``verify`` (orchestration).
"""

from __future__ import annotations

from overflight.claims.evidence import check_maneuver as check_maneuver
from overflight.claims.model import CANNOT_VERIFY as CANNOT_VERIFY
from overflight.claims.model import CONSISTENT as CONSISTENT
from overflight.claims.model import ERROR as ERROR
from overflight.claims.model import INCONSISTENT as INCONSISTENT
from overflight.claims.model import Claim as Claim
from overflight.claims.model import ClaimError as ClaimError
from overflight.claims.model import ClaimProblem as ClaimProblem
from overflight.claims.model import ClaimResult as ClaimResult
from overflight.claims.model import ClaimsFile as ClaimsFile
from overflight.claims.model import ClaimsFileError as ClaimsFileError
from overflight.claims.model import DataNeeded as DataNeeded
from overflight.claims.model import Finding as Finding
from overflight.claims.model import Geometry as Geometry
from overflight.claims.model import ManeuverCheck as ManeuverCheck
from overflight.claims.model import Opportunity as Opportunity
from overflight.claims.model import VerifyOptions as VerifyOptions
from overflight.claims.parse import FIELDS as FIELDS
from overflight.claims.parse import claim_from_fields as claim_from_fields
from overflight.claims.parse import parse_claims_text as parse_claims_text
from overflight.claims.parse import read_claims as read_claims
from overflight.claims.report import data_needed_summary as data_needed_summary
from overflight.claims.report import render_html as render_html
from overflight.claims.report import render_markdown as render_markdown
from overflight.claims.report import stale_report as stale_report
from overflight.claims.rules import verdict as verdict
from overflight.claims.verify import verify_claim as verify_claim
from overflight.claims.verify import verify_claims as verify_claims

__all__ = [
    "CANNOT_VERIFY",
    "CONSISTENT",
    "ERROR",
    "FIELDS",
    "INCONSISTENT",
    "Claim",
    "ClaimError",
    "ClaimProblem",
    "ClaimResult",
    "ClaimsFile",
    "ClaimsFileError",
    "DataNeeded",
    "Finding",
    "Geometry",
    "ManeuverCheck",
    "Opportunity",
    "VerifyOptions",
    "check_maneuver",
    "claim_from_fields",
    "data_needed_summary",
    "parse_claims_text",
    "read_claims",
    "render_html",
    "render_markdown",
    "stale_report",
    "verdict",
    "verify_claim",
    "verify_claims",
]
