"""The overflight web service and dashboard (FastAPI; install ``overflight[service]``).

``create_app(db=None, token=None)`` builds the application; ``overflight serve`` runs it.
Endpoints, limits and the token: ``docs/service.md``.
"""

from __future__ import annotations

from overflight.server.app import create_app
from overflight.server.service import Limits

__all__ = ["Limits", "create_app"]
