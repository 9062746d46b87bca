"""The widget's session id is a secret: from a secure generator, and never in a URL (issue G, finding 10).

Whoever has the id reads the conversation from the REST inbox, so it must not be guessable
(Math.random) nor end up in proxies' and servers' access logs (a query string).
"""

import re

import pytest

from bot.senders import SESSION_HEADER

pytestmark = pytest.mark.slow  # starts the bot's servers or loads the trained model

# A browser without crypto.randomUUID (older Safari, any page served over plain HTTP), with
# getRandomValues watched: the old widget fell back to Math.random there.
WATCH_RANDOM = """
delete Crypto.prototype.randomUUID;
window.__secureRandomCalls = 0;
const original = Crypto.prototype.getRandomValues;
Crypto.prototype.getRandomValues = function (array) {
  window.__secureRandomCalls += 1;
  return original.call(this, array);
};
"""


def test_the_session_id_comes_from_a_secure_generator_and_travels_in_a_header(desk_stack, browser) -> None:
    settings, _, _ = desk_stack
    context = browser.new_context()
    context.add_init_script(WATCH_RANDOM)
    page = context.new_page()
    inbox_requests = []
    page.on("request", lambda request: "/webhooks/rest/inbox" in request.url and inbox_requests.append(request))
    page.goto(f"{settings.rasa_url}/webhooks/socketio/demo")
    page.click(".cskh-launcher")
    page.locator(".cskh-bot").first.wait_for(timeout=15_000)

    session = page.evaluate("localStorage.getItem('cskh_session_id')")
    assert re.fullmatch(r"[0-9a-f]{32}", session)
    assert page.evaluate("window.__secureRandomCalls") >= 1
    assert inbox_requests, "the widget did not catch up on its inbox"
    for request in inbox_requests:
        assert session not in request.url
        assert request.headers.get(SESSION_HEADER.lower()) == session
    context.close()
