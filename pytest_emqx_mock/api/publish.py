"""(being written for issue 3)"""

from __future__ import annotations

from .routing import Routes

routes = Routes()
