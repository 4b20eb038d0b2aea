"""The cluster's nodes and its alarms."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .clock import now

RUNNING = "running"
STOPPED = "stopped"


@dataclass(eq=False)
class Node:
    name: str
    status: str = RUNNING  # "running" or "stopped"
    role: str = "core"  # "core" or "replicant"
    version: str = "5.8.9"
    otp_release: str = "26.2.5-3/14.2.5"
    started_at: float = field(default_factory=now)
    memory_total: str = "15.52G"
    memory_used: str = "512.00M"
    max_fds: int = 1048576
    process_available: int = 2097152
    load1: float = 0.21
    load5: float = 0.18
    load15: float = 0.12
    #: Seconds the node's RPCs hang before they time out; None while it answers.
    rpc_timeout: float | None = None

    @property
    def running(self) -> bool:
        return self.status == RUNNING


@dataclass(eq=False)
class Alarm:
    name: str
    node: str
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    activate_at: float = field(default_factory=now)
    deactivate_at: float | None = None

    @property
    def activated(self) -> bool:
        return self.deactivate_at is None
