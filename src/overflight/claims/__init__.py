"""Imaging-claim verification: could this satellite have imaged this place at this time?"""

from __future__ import annotations

from overflight.claims.verify import (
    CANNOT_VERIFY as CANNOT_VERIFY,
)
from overflight.claims.verify import (
    CONSISTENT as CONSISTENT,
)
from overflight.claims.verify import (
    ERROR as ERROR,
)
from overflight.claims.verify import (
    FIELDS as FIELDS,
)
from overflight.claims.verify import (
    INCONSISTENT as INCONSISTENT,
)
from overflight.claims.verify import (
    Claim as Claim,
)
from overflight.claims.verify import (
    ClaimError as ClaimError,
)
from overflight.claims.verify import (
    ClaimProblem as ClaimProblem,
)
from overflight.claims.verify import (
    ClaimResult as ClaimResult,
)
from overflight.claims.verify import (
    ClaimsFile as ClaimsFile,
)
from overflight.claims.verify import (
    ClaimsFileError as ClaimsFileError,
)
from overflight.claims.verify import (
    DataNeeded as DataNeeded,
)
from overflight.claims.verify import (
    Geometry as Geometry,
)
from overflight.claims.verify import (
    ManeuverCheck as ManeuverCheck,
)
from overflight.claims.verify import (
    Opportunity as Opportunity,
)
from overflight.claims.verify import (
    VerifyOptions as VerifyOptions,
)
from overflight.claims.verify import (
    check_maneuver as check_maneuver,
)
from overflight.claims.verify import (
    claim_from_fields as claim_from_fields,
)
from overflight.claims.verify import (
    data_needed_summary as data_needed_summary,
)
from overflight.claims.verify import (
    parse_claims_text as parse_claims_text,
)
from overflight.claims.verify import (
    read_claims as read_claims,
)
from overflight.claims.verify import (
    render_html as render_html,
)
from overflight.claims.verify import (
    render_markdown as render_markdown,
)
from overflight.claims.verify import (
    verify_claim as verify_claim,
)
from overflight.claims.verify import (
    verify_claims as verify_claims,
)

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
    "verify_claim",
    "verify_claims",
]
