"""The HTTP session to a shop's own systems (its order API, its product API), one way for both.

A GET is tried once more after a refused connection or a 5xx (the shop's server restarting), never after
a read timeout (the customer is waiting, and a slow API stays slow); writes are never retried here, so a
cancellation cannot be sent twice. The shop's token goes in every request's Authorization header.
"""

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry


def shop_api_session(base_url: str, token: str | None) -> requests.Session:
    """A session for ``base_url`` with the shop's retry rule and bearer token."""
    session = requests.Session()
    retry = Retry(
        total=1, connect=1, read=0, status=1, backoff_factor=0.1,
        status_forcelist=(500, 502, 503, 504), allowed_methods=frozenset({"GET"}),
        raise_on_status=False,
    )  # fmt: skip
    session.mount(base_url, HTTPAdapter(max_retries=retry))
    if token:
        session.headers["Authorization"] = f"Bearer {token}"
    return session
