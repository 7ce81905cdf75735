"""The address of the client behind a request, believing X-Forwarded-For only from trusted proxies.

Every part of django-deploykit that decides by client address uses ``client_ip``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


# The widest network an allowlist or the trusted proxies may hold. Wider is surely a slip that
# lets (nearly) everyone in: no organisation, office or proxy fleet spans more than a /8 of
# IPv4 (16.7 million addresses) or a /16 of IPv6. The private ranges are all narrower, but for
# IPv6's fc00::/7 and fe80::/10, which are accepted.
MIN_PREFIX_LENGTH = {4: 8, 6: 16}
# IPv6 networks whose last 32 bits are IPv4 addresses (IPv4-mapped, as a dual-stack socket
# reports IPv4 clients, and NAT64): their width is judged as IPv4's, and a network holding
# one of them whole holds every IPv4 client.
EMBEDDED_IPV4 = (ipaddress.IPv6Network("::ffff:0:0/96"), ipaddress.IPv6Network("64:ff9b::/96"))


def parse_networks(values: Iterable[str], what: str) -> tuple[IPNetwork, ...]:
    """Parse CIDRs (a bare address is a /32 or /128); ``ValueError`` names the bad or too wide one."""
    networks = []
    for value in values:
        try:
            network = ipaddress.ip_network(str(value).strip(), strict=False)
        except ValueError:
            raise ValueError(
                f"{what} {value!r} is not an IP address or CIDR network; write it like 203.0.113.0/24, "
                "10.1.2.3 or 2001:db8::/32."
            ) from None
        if too_wide(network):
            raise ValueError(
                f"{what} {value!r} is too wide: it would take in (nearly) every client. Networks wider than "
                f"a /{MIN_PREFIX_LENGTH[4]} (IPv4) or a /{MIN_PREFIX_LENGTH[6]} (IPv6) are refused; list the "
                "networks you mean, such as 203.0.113.0/24 or 2001:db8:1::/48."
            )
        networks.append(network)
    return tuple(networks)


def too_wide(network: IPNetwork) -> bool:
    """Whether ``network`` is wider than any allowlist or proxy fleet (see MIN_PREFIX_LENGTH)."""
    if isinstance(network, ipaddress.IPv4Network):
        return network.prefixlen < MIN_PREFIX_LENGTH[4]
    for embedded in EMBEDDED_IPV4:
        if network.subnet_of(embedded):
            return network.prefixlen - embedded.prefixlen < MIN_PREFIX_LENGTH[4]
        if embedded.subnet_of(network):
            return True
    return network.prefixlen < MIN_PREFIX_LENGTH[6] and not network.is_private


@lru_cache(maxsize=32)
def cached_networks(values: tuple[str, ...], what: str) -> tuple[IPNetwork, ...]:
    return parse_networks(values, what)


def parse_address(value: str | None) -> IPAddress | None:
    """Parse one address as proxies write it: bare, ``1.2.3.4:port`` or ``[v6]:port``."""
    if not value:
        return None
    text = value.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def in_networks(address: IPAddress, networks: Sequence[IPNetwork]) -> bool:
    return any(address.version == network.version and address in network for network in networks)


def client_ip(meta: Mapping[str, Any], trusted_proxies: Sequence[IPNetwork] = ()) -> IPAddress | None:
    """Return the client's address.

    ``REMOTE_ADDR`` is the client unless it is a trusted proxy. Then X-Forwarded-For is read
    from the right: each hop a trusted proxy appended is skipped, and the first hop not in
    ``trusted_proxies`` is the client (nginx's ``real_ip_recursive``). Hops to its left were
    written by the client itself and could say anything, so they are never used.
    """
    remote = parse_address(meta.get("REMOTE_ADDR"))
    if remote is None or not in_networks(remote, trusted_proxies):
        return remote
    client = remote
    forwarded = str(meta.get("HTTP_X_FORWARDED_FOR", ""))
    for hop in reversed(forwarded.split(",")):
        address = parse_address(hop)
        if address is None:
            # Garbage from a proxy we trust: stop at the last hop we could read.
            break
        client = address
        if not in_networks(address, trusted_proxies):
            break
    return client
