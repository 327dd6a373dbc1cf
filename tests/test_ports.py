"""Port numbers: services and the IANA ranges (RFC 6335)."""

from __future__ import annotations

import pytest

from headerkit import ports


@pytest.mark.parametrize(
    ("port", "kind"),
    [
        (0, "well-known"),
        (53, "well-known"),
        (1023, "well-known"),
        (1024, "registered"),
        (49151, "registered"),
        (49152, "ephemeral"),
        (65535, "ephemeral"),
    ],
)
def test_each_port_is_in_one_iana_range(port: int, kind: str) -> None:
    assert ports.kind(port) == kind


def test_the_lectures_services_are_named() -> None:
    assert [ports.SERVICES[p] for p in (53, 67, 68, 69)] == [
        "DNS",
        "DHCP server",
        "DHCP client",
        "TFTP",
    ]
    assert ports.describe(69) == "69 (TFTP, well-known)"


def test_linuxs_ephemeral_range_reaches_below_ianas() -> None:
    assert ports.describe(32768) == "32768 (registered; in Linux's ephemeral range)"
    assert ports.describe(60999) == "60999 (ephemeral)"
    assert ports.describe(61000) == "61000 (ephemeral)"
    assert ports.describe(32767) == "32767 (registered)"
