"""Masking keeps personal data out of logs while staying recognizable."""

import pytest

from bot.privacy import mask_address, mask_email, mask_id, mask_phone, redact


def test_phone_keeps_only_first_and_last_two_digits() -> None:
    assert mask_phone("0912345678") == "09******78"


def test_email_keeps_first_letter_and_domain() -> None:
    assert mask_email("lan.nguyen@gmail.com") == "l***@gmail.com"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("sđt của mình 0912.345.678 nhé", "345"),
        ("gọi +84 912 345 678", "912 345"),
        ("mail lan.nguyen@gmail.com", "lan.nguyen"),
        ("access_token=abcDEF123456", "abcDEF123456"),
        ('{"token": "s3cr3t-value"}', "s3cr3t-value"),
    ],
)
def test_redact_removes_personal_data_and_secrets(text: str, secret: str) -> None:
    assert secret not in redact(text)


def test_redact_leaves_order_numbers_and_prices_alone() -> None:
    text = "đơn DH123456 giá 1.490.000đ"
    assert redact(text) == text


def test_a_zalo_or_messenger_id_in_logs_shows_only_its_last_four_characters() -> None:
    assert mask_id("8439210577312890123") == "…0123"  # a Zalo user id
    assert mask_id("1598327364112233") == "…2233"  # a PSID
    assert mask_id("12345678") == "…"  # too short to show any part of it


def test_access_logs_keep_a_clients_network_not_its_address() -> None:
    assert mask_address("203.0.113.9") == "203.0.113.x"
    assert mask_address("2001:db8:abcd:12::7") == "2001:db8:abcd::x"
    assert mask_address("::ffff:203.0.113.9") == "203.0.113.x"
    assert mask_address("unix socket") == "-"
