"""Host fingerprint and the prime-number busy load."""

from __future__ import annotations

from eabench.meters.host import host_fingerprint, prime_load


def test_fingerprint_is_stable_and_sensitive() -> None:
    a = host_fingerprint("n1", "Xeon", ["GPU-b", "GPU-a"], "6.1", "550")
    assert a == host_fingerprint("n1", "Xeon", ["GPU-a", "GPU-b"], "6.1", "550")
    assert a != host_fingerprint("n1", "Xeon", ["GPU-a", "GPU-b"], "6.1", "555")
    assert len(host_fingerprint()) == 16  # this machine, from /proc/cpuinfo and uname


def test_prime_load_does_work_on_all_requested_cores() -> None:
    assert prime_load(0.3, processes=2) > 100
