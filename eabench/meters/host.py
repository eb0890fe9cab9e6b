"""Host facts for calibration: the host fingerprint and the CPU busy load (prime search)."""

from __future__ import annotations

import hashlib
import math
import multiprocessing
import os
import platform
import socket
import time
from collections.abc import Sequence
from pathlib import Path

from eabench.errors import InvalidArgumentError

__all__ = ["host_fingerprint", "prime_load"]


def host_fingerprint(
    hostname: str | None = None,
    cpu_model: str | None = None,
    gpu_uuids: Sequence[str] = (),
    kernel: str | None = None,
    driver: str | None = None,
) -> str:
    """sha256 (first 16 hex) of hostname, CPU model, GPU UUIDs, kernel and driver version."""
    if cpu_model is None:
        cpu_model = platform.processor()
        try:
            for line in Path("/proc/cpuinfo").read_text().splitlines():
                if line.startswith("model name"):
                    cpu_model = line.split(":", 1)[1].strip()
                    break
        except OSError:
            pass
    parts = [
        hostname if hostname is not None else socket.gethostname(),
        cpu_model,
        ",".join(sorted(gpu_uuids)),
        kernel if kernel is not None else platform.release(),
        driver or "",
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


def _primes_for(duration_s: float) -> int:
    """Trial-division prime search for ``duration_s`` from the worker's start; primes found."""
    deadline = time.monotonic() + duration_s
    found, n = 0, 3
    while True:
        for _ in range(2000):
            is_prime = all(n % d for d in range(3, math.isqrt(n) + 1, 2))
            found += is_prime
            n += 2
        if time.monotonic() >= deadline:
            return found


def prime_load(duration_s: float, processes: int | None = None) -> int:
    """Busy load for calibration: a prime-number search on ``processes`` cores (default all)
    for ``duration_s`` seconds each, timed from each worker's start (so process start-up does
    not eat the load). Returns the number of primes found (proof of work)."""
    if not duration_s > 0:
        raise InvalidArgumentError.for_field("duration_s", duration_s, "must be > 0")
    n = processes or os.cpu_count() or 1
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(n) as pool:
        return sum(pool.map(_primes_for, [duration_s] * n))
