"""The key an address counts by: IPv4 as itself, IPv6 by its /64."""
from __future__ import annotations

import pytest

from comments.security import address_key


@pytest.mark.parametrize(("address", "key"), [
    ("203.0.113.7", "203.0.113.7"),
    ("2001:db8:1:2::5", "2001:db8:1:2::/64"),
    ("2001:DB8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
    ("2001:0db8:0001:0002:0000:0000:0000:0001", "2001:db8:1:2::/64"),
    ("::ffff:203.0.113.7", "203.0.113.7"),
    ("fe80::1%eth0", "fe80::/64"),
    ("unknown", "unknown"),
])
def test_ipv6_addresses_are_keyed_by_their_64(address: str, key: str) -> None:
    assert address_key(address) == key


@pytest.mark.parametrize(("address", "single"), [
    ("203.0.113.7", "203.0.113.7"),
    ("2001:DB8:1:2:0::5", "2001:db8:1:2::5"),
    ("::ffff:203.0.113.7", "203.0.113.7"),
])
def test_a_single_address_is_its_canonical_form(address: str, single: str) -> None:
    assert address_key(address, single=True) == single
