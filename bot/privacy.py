"""Masking for anything that leaves the conversation: logs, summaries, agent views.

Logs never hold a full phone number, e-mail or token; ``redact`` is applied to
free text before it is logged.
"""

import ipaddress
import re

_PHONE_RUN = re.compile(r"(?<!\d)(?:\+?84|0)(?:[\s.\-]?\d){8,9}(?!\d)")
_EMAIL = re.compile(r"([\w.+-])[\w.+-]*@([\w-]+(?:\.[\w-]+)+)", re.UNICODE)
_TOKEN = re.compile(r"(?i)((?:token|access_token|secret|password)[\"']?\s*[=:]\s*[\"']?)[^\s\"'&,}]+")


def mask_phone(phone: str) -> str:
    """ "0912345678" -> "09******78": enough for a customer to recognize it."""
    digits = re.sub(r"\D", "", phone)
    if len(digits) < 6:
        return "*" * len(digits)
    return digits[:2] + "*" * (len(digits) - 4) + digits[-2:]


def phone_spans(text: str) -> list[tuple[int, int]]:
    """Where ``text`` holds something written like a Vietnamese phone number ("0912 345 678", "+84912…"):
    what ``redact`` would mask, for callers that must find or mask them without moving other offsets."""
    return [match.span() for match in _PHONE_RUN.finditer(text)]


def mask_phones_in_place(text: str) -> str:
    """``text`` with each phone's digits but its first and last two starred, every other character left where
    it was: a highlighted snippet keeps its offsets. "gọi 0912 345 678" -> "gọi 09** *** *78"."""
    chars = list(text)
    for start, end in phone_spans(text):
        digits = [index for index in range(start, end) if chars[index].isdigit()]
        for index in digits[2:-2]:
            chars[index] = "*"
    return "".join(chars)


def mask_id(platform_id: str) -> str:
    """A Zalo user id or Messenger PSID for logs: "…0123", enough to tell customers apart, not to message them."""
    return "…" + platform_id[-4:] if len(platform_id) > 8 else "…"


def mask_address(address: str) -> str:
    """A client's IP address for access logs: its network (/24, /48), enough to see a flood come from one
    place, not to name a household. "203.0.113.9" -> "203.0.113.x"."""
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return "-"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.version == 4:
        return str(ip).rsplit(".", 1)[0] + ".x"
    return str(ipaddress.ip_network(f"{ip}/48", strict=False).network_address).rstrip(":") + "::x"


def mask_email(email: str) -> str:
    """ "lan.nguyen@gmail.com" -> "l***@gmail.com"."""
    return _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", email)


def redact(text: str) -> str:
    """Free text with phones, e-mails and secrets masked, for logs."""
    text = _PHONE_RUN.sub(lambda m: mask_phone(m.group()), text)
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    return _TOKEN.sub(lambda m: m.group(1) + "***", text)


_ORDER_NUMBER = re.compile(r"(?i)(?<![\w])#?(dh)[\s\-–]?(\d{4})(\d{2})(?!\d)")
_LONG_NUMBER = re.compile(r"(?<![\d*])\d{8,}(?![\d*])")  # bank accounts, ID cards
_MAYBE_PERSONAL = re.compile(r"[\d@=:]")  # every pattern above needs one of these


def mask_personal(text: str) -> str:
    """Customer text as an admin may see it: phones, e-mails, order codes, long numbers and secrets masked.

    ``redact`` keeps order codes because logs need them to trace an order; lists of what customers
    wrote (unanswered questions) have no such need and must not show whose order is whose.
    """
    if not _MAYBE_PERSONAL.search(text):
        return text
    text = _ORDER_NUMBER.sub(lambda m: f"{m.group(1).upper()}****{m.group(3)}", redact(text))
    return _LONG_NUMBER.sub(lambda m: "*" * len(m.group()), text)
