"""Which client a request comes from, for the rate limits.

REMOTE_ADDR, unless settings.TRUSTED_PROXY_COUNT says the site runs behind that many reverse proxies, each appending
the address it saw to X-Forwarded-For: then the entry the outermost trusted proxy appended (counted from the right;
what the client itself wrote further left is never believed). An IPv6 client is counted by its /64, which one
host usually holds whole.
"""
import ipaddress

from django.conf import settings


def client_address(request) -> str:
    address = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            address = forwarded[-proxies]
    return _counted_as(address)


def client_ip(request) -> str:
    """The same client as an IP address a database can store (django-axes counts failed logins by it): an IPv6
    client is its /64's first address; an unreadable address is 0.0.0.0 (all such requests share one count)."""
    counted = client_address(request)
    if counted == "unknown":
        return "0.0.0.0"
    return counted.split("/")[0]


def _counted_as(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "unknown"  # (all such requests share one count)
    if ip.version == 4:
        return str(ip)
    if ip.ipv4_mapped is not None:  # (::ffff:192.0.2.1 from a dual-stack socket is that IPv4 client)
        return str(ip.ipv4_mapped)
    return str(ipaddress.ip_network(f"{ip}/64", strict=False))
