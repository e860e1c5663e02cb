"""Who is on the other end: the client's address behind the proxies we trust.

Shared by the staff console (login limits) and the citizen channels (per-address message
limit): both believe ``X-Forwarded-For`` only from ``MOTCUA_TRUSTED_PROXIES``.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections import deque
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    mapped = getattr(ip, "ipv4_mapped", None)
    return mapped or ip


def forwarded_client(peer: str | None, forwarded: Iterable[str], trusted: Iterable[Network]) -> str:
    """The client's address: the right-most hop that is not a trusted proxy.

    ``X-Forwarded-For`` is believed only when the socket peer is a trusted proxy, and only
    as far back as the chain runs through trusted proxies: every hop to the left of the
    first untrusted one could have been written by the client. A malformed hop ends the
    walk at the proxy that passed it on.

    Args:
        peer: The socket peer's address.
        forwarded: The ``X-Forwarded-For`` header values, in order.
        trusted: The trusted proxies (``MOTCUA_TRUSTED_PROXIES``).
    """
    nets = tuple(trusted)
    current = _address(peer or "")
    if current is None:
        return (peer or "unknown")[:64]
    hops = [h for value in forwarded for h in value.split(",") if h.strip()]
    while any(current in net for net in nets) and hops:
        previous = _address(hops.pop())
        if previous is None:
            break
        current = previous
    return str(current)


def is_loopback(address: str) -> bool:
    """Whether ``address`` is this machine (``127.0.0.0/8``, ``::1``)."""
    ip = _address(address)
    return bool(ip and ip.is_loopback)


class AddressLimit:
    """A sliding-window limit per client address, in this process.

    The embedded default runs one Rasa process, so the count is exact there; behind nginx
    (``motcua serve``) nginx's ``limit_req`` is the per-address limit and this one only
    adds a ceiling per server.

    Args:
        per_minute: Requests one address may make in any 60 seconds.
        max_addresses: Addresses remembered at most (the quietest are forgotten first).
    """

    def __init__(self, per_minute: int, max_addresses: int = 50_000) -> None:
        self.per_minute = per_minute
        self.max_addresses = max_addresses
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, address: str, now: float | None = None) -> float:
        """Records a request from ``address``; returns 0, or seconds to wait when over."""
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._seen.pop(address, None) or deque()
            while times and times[0] <= now - 60:
                times.popleft()
            if len(times) >= self.per_minute:
                self._seen[address] = times
                return max(0.1, times[0] + 60 - now)
            times.append(now)
            self._seen[address] = times  # most recent last: forgetting starts at the front
            while len(self._seen) > self.max_addresses:
                del self._seen[next(iter(self._seen))]
            return 0.0
