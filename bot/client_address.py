"""Who is on the other end of a request: the peer, or what a trusted reverse proxy says it is.

X-Forwarded-For is written by whoever sends the request, so it is believed only when the peer is
one of the configured proxies (``CSKH_TRUSTED_PROXIES``), and then read from the right: the nearest
address no trusted proxy vouches for is the client.
"""

import ipaddress
from collections.abc import Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _trusted(address: str, proxies: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_address(peer: str, forwarded_for: str | None, proxies: Sequence[Network]) -> str:
    """The client's address; the peer itself unless the peer is a trusted proxy."""
    client = peer
    if not forwarded_for or not _trusted(peer, proxies):
        return client
    for hop in reversed([part.strip() for part in forwarded_for.split(",")]):
        try:
            client = str(ipaddress.ip_address(hop))
        except ValueError:
            return client  # a garbled hop: stop at the last one a trusted proxy vouched for
        if not _trusted(client, proxies):
            return client
    return client
