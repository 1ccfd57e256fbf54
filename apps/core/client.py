"""Who is asking: the client's network address, the one rule for every throttle, the login
lockout, the /metrics allow-list and the HTTPS decision (settings.TRUSTED_PROXY_COUNT).

With no proxy in front (TRUSTED_PROXY_COUNT=0, the default) the client is the peer of the
connection, REMOTE_ADDR, and X-Forwarded-For is ignored: a client cannot choose its own
identity. With N trusted proxies, each of which appends the address it received the
request from, the client is the Nth address from the right of X-Forwarded-For; whatever
the client wrote further left is never read. A value that is not an address (a proxy that
does not append, a request that bypassed a proxy) falls back to REMOTE_ADDR.
"""

import ipaddress

from django.conf import settings

# IPv6 clients are counted per /64, the block one subscriber gets: otherwise rotating
# through its 2^64 addresses would escape every per-address count.
IPV6_IDENTITY_PREFIX = 64


def _parse(value):
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if address.version == 6:
        # ::ffff:192.0.2.1 is 192.0.2.1; a zone (fe80::1%eth0) is not part of who it is.
        address = address.ipv4_mapped or ipaddress.IPv6Address(int(address))
    return address


def client_ip(request):
    """The client's address (an ipaddress object), or None when not even REMOTE_ADDR is one."""
    if settings.TRUSTED_PROXY_COUNT:
        hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if len(hops) >= settings.TRUSTED_PROXY_COUNT:
            address = _parse(hops[-settings.TRUSTED_PROXY_COUNT])
            if address is not None:
                return address
    return _parse(request.META.get("REMOTE_ADDR", ""))


def client_address(request):
    """The client's address as text (logs, the /metrics allow-list); "" when unknown."""
    address = client_ip(request)
    return "" if address is None else address.compressed


def client_identity(request):
    """What throttles and lockouts count by: the address, or its /64 for IPv6."""
    address = client_ip(request)
    if address is None:
        return ""  # one shared bucket for every request without an address
    if address.version == 6:
        address = ipaddress.ip_network(f"{address}/{IPV6_IDENTITY_PREFIX}", strict=False)
    return address.compressed


def client_address_allowed(request, allowed):
    """Whether the client's address is one of `allowed` (addresses or networks)."""
    address = client_ip(request)
    if address is None:
        return False
    for entry in allowed:
        try:
            if address in ipaddress.ip_network(entry.strip(), strict=False):
                return True
        except ValueError:
            continue  # a malformed entry allows nobody
    return False
