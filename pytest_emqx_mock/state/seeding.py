"""Realistic defaults for seeded clients, reproducible under a seed."""

from __future__ import annotations

import functools
import random
from typing import Any

from .clock import now

_POOL_SIZE = 256


@functools.lru_cache(maxsize=8)
def _name_pool(seed: int | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Usernames and client-id stems drawn from Faker once per seed: Faker's `user_name()`
    costs ~140 µs, too slow to call per client when seeding 100,000 of them."""
    from faker import (
        Faker,  # imported on first use: it takes ~0.2 s, server start must not
    )

    fake = Faker()
    fake.seed_instance(seed)
    usernames = tuple(fake.unique.user_name() for _ in range(_POOL_SIZE))
    stems = tuple(fake.unique.word() for _ in range(_POOL_SIZE))
    return usernames, stems


class ClientDefaults:
    """Fills in what a seeded client leaves out, the way a fleet of real devices looks."""

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed
        self._random = random.Random(seed)

    def reseed(self) -> None:
        """Draw the same clients again. Without a seed there is nothing to repeat, and
        seeding afresh from the OS (~25 µs) would cost every per-test reset."""
        if self.seed is not None:
            self._random = random.Random(self.seed)

    def clientid(self) -> str:
        _, stems = _name_pool(self.seed)
        return f"{self._random.choice(stems)}_{self._random.getrandbits(32):08x}"

    def fill(self, fields: dict[str, Any]) -> dict[str, Any]:
        rnd = self._random.random  # one float per draw: randrange costs ~2.5 µs each
        usernames, _ = _name_pool(self.seed)
        connected = fields.get("connected", True)
        created_at = fields.get("created_at", now() - 3600 * rnd())
        bits = self._random.getrandbits(32)
        defaults: dict[str, Any] = {
            "username": usernames[int(rnd() * len(usernames))],
            "ip_address": f"10.{bits >> 24}.{(bits >> 16) & 255}.{1 + (bits & 255) % 254}",
            "port": 1024 + int(rnd() * 64512),
            "created_at": created_at,
        }
        if not connected:
            # Only a session with an expiry interval outlives its connection.
            defaults["clean_start"] = False
            defaults["expiry_interval"] = 7200
            defaults["disconnected_at"] = min(now(), created_at + 1 + 599 * rnd())
        merged = {**defaults, **fields}
        stats = {
            "heap_size": 376 + int(rnd() * 6396),
            "reductions": 2000 + int(rnd() * 88000),
            "recv_cnt": 1,
            "recv_pkt": 1,
            "recv_oct": 20 + int(rnd() * 100),
            "send_cnt": 1,
            "send_pkt": 1,
            "send_oct": 4,
        }
        stats.update(merged.get("stats") or {})
        merged["stats"] = stats
        return merged
