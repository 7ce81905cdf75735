from __future__ import annotations

import ipaddress

import pytest

from django_deploykit.maintenance.client_ip import client_ip, parse_address, parse_networks, too_wide

PROXIES = parse_networks(["10.0.0.0/8", "::1"], "proxy")


def ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(text)


class ClientIpTests:
    def test_remote_addr_without_trusted_proxies(self) -> None:
        meta = {"REMOTE_ADDR": "203.0.113.7", "HTTP_X_FORWARDED_FOR": "127.0.0.1"}
        assert client_ip(meta) == ip("203.0.113.7")

    def test_forwarded_for_is_ignored_from_an_untrusted_peer(self) -> None:
        meta = {"REMOTE_ADDR": "203.0.113.7", "HTTP_X_FORWARDED_FOR": "10.1.1.1"}
        assert client_ip(meta, PROXIES) == ip("203.0.113.7")

    def test_rightmost_untrusted_hop_through_trusted_proxies(self) -> None:
        meta = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "198.51.100.9, 10.0.0.3"}
        assert client_ip(meta, PROXIES) == ip("198.51.100.9")

    def test_spoofed_leftmost_entries_are_not_believed(self) -> None:
        # The client sent "X-Forwarded-For: 127.0.0.1"; the proxy appended the real address.
        meta = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "127.0.0.1, 198.51.100.9"}
        assert client_ip(meta, PROXIES) == ip("198.51.100.9")

    def test_all_hops_trusted_gives_the_leftmost(self) -> None:
        meta = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "10.0.0.5, 10.0.0.3"}
        assert client_ip(meta, PROXIES) == ip("10.0.0.5")

    def test_garbage_hop_stops_the_walk(self) -> None:
        meta = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "198.51.100.9, bogus"}
        assert client_ip(meta, PROXIES) == ip("10.0.0.2")

    def test_ipv6_peer(self) -> None:
        meta = {"REMOTE_ADDR": "::1", "HTTP_X_FORWARDED_FOR": "[2001:db8::5]:4711"}
        assert client_ip(meta, PROXIES) == ip("2001:db8::5")

    def test_missing_remote_addr(self) -> None:
        assert client_ip({}, PROXIES) is None


class ParseTests:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [("1.2.3.4", "1.2.3.4"), ("1.2.3.4:80", "1.2.3.4"), ("::1", "::1"), ("[::1]:80", "::1"), ("x", None)],
    )
    def test_parse_address(self, text: str, expected: str | None) -> None:
        address = parse_address(text)
        assert (None if address is None else str(address)) == expected

    def test_bare_address_is_a_single_host_network(self) -> None:
        assert [str(n) for n in parse_networks(["10.0.0.1", "10.0.0.0/8"], "x")] == [
            "10.0.0.1/32",
            "10.0.0.0/8",
        ]

    def test_invalid_cidr_names_itself(self) -> None:
        with pytest.raises(
            ValueError, match=r"--allow-ip '10.0.0.0/33' is not an IP address or CIDR network"
        ):
            parse_networks(["10.0.0.0/33"], "--allow-ip")


class TooWideTests:
    @pytest.mark.parametrize(
        ("network", "wide"),
        [
            ("10.0.0.0/8", False),
            ("8.0.0.0/7", True),
            ("0.0.0.0/0", True),
            ("2001::/16", False),
            ("2000::/15", True),
            ("::/0", True),
            ("fc00::/7", False),
            ("::ffff:10.0.0.0/104", False),
            ("::ffff:0.0.0.0/103", True),
            ("64:ff9b::/96", True),
            ("::/80", True),
            ("203.0.113.7/32", False),
        ],
    )
    def test_the_rule(self, network: str, wide: bool) -> None:
        assert too_wide(ipaddress.ip_network(network)) is wide
