"""Which mail servers a user may make the site connect to: the administrator's setting, so that the site cannot be
used to probe the internal network.

A host:port is allowed when it matches an entry of MAIL_ALLOWED_HOSTS ("*", "host", "host:port", shell-style
patterns such as "*.example.com"); otherwise only on one of MAIL_PUBLIC_PORTS and only if every address its name
resolves to is a public one (not loopback, private, link-local, shared, reserved, multicast...). The name is resolved
once and the address returned is the one to connect to, so DNS cannot answer differently between the check and the
connection.

Servers of an account that its user typed in (the account form marks them: UserServers) are checked again right
before every poll and delivery connects, and connected to at the address checked: a name that now resolves to an
internal address, or a rule the administrator tightened since, stops them. Servers the administrator set up (the
admin, fixtures, scripts) are used as they are.
"""
import concurrent.futures
import fnmatch
import ipaddress
import socket

from django.conf import settings

from spooler.models import UserServers
from spooler.services.inbound.errors import NOT_ALLOWED, UNKNOWN_HOST, HostRefused

SIDES = ("incoming", "smtp")

_resolver = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="mail-dns")


def host_normalize(host: str) -> str:
    """As compared and connected to: without surrounding spaces, IPv6 brackets or the root's trailing dot."""
    host = (host or "").strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host.rstrip(".")


def account_server_changed(*, account, side: str, host: str, port) -> bool:
    """Whether `host`:`port` is another server than the account's stored one for `side` ("incoming", "smtp"); a new
    account (None) has none. A stored password goes only to the server it was stored for."""
    if account is None:
        return True
    stored = (host_normalize(getattr(account, f"{side}_host")), getattr(account, f"{side}_port"))
    return (host_normalize(host or ""), port) != stored


def _listed(host: str, port: int) -> bool:
    for entry in settings.MAIL_ALLOWED_HOSTS:
        entry = entry.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        pattern, _, entry_port = entry.rpartition(":") if _has_port(entry) else (entry, "", "")
        if entry_port and entry_port != str(port):
            continue
        if fnmatch.fnmatchcase(host, host_normalize(pattern)):
            return True
    return False


def _has_port(entry: str) -> bool:
    # "host:port", "[v6]:port" or "v4:port"; a bare IPv6 address has several colons and no port.
    if entry.startswith("["):
        return "]:" in entry
    return entry.count(":") == 1


def _resolve(host: str, port: int) -> list[str]:
    """The addresses of `host`, waiting MAIL_DNS_TIMEOUT at most (getaddrinfo has no timeout of its own)."""
    future = _resolver.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        infos = future.result(timeout=settings.MAIL_DNS_TIMEOUT)
    except (OSError, UnicodeError, concurrent.futures.TimeoutError):
        raise HostRefused(UNKNOWN_HOST, unresolved=True) from None
    addresses = []
    for _family, _type, _proto, _name, sockaddr in infos:
        if sockaddr[0] not in addresses:
            addresses.append(sockaddr[0])
    if not addresses:
        raise HostRefused(UNKNOWN_HOST, unresolved=True)
    return addresses


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def mail_host_check(*, host: str, port: int) -> str:
    """The address to connect to for host:port, resolved once and checked. Raises HostRefused."""
    host = host_normalize(host)
    listed = _listed(host, port)
    if not listed and port not in settings.MAIL_PUBLIC_PORTS:
        raise HostRefused(NOT_ALLOWED)  # (before any DNS query: nothing is learnt about the name)
    addresses = _resolve(host, port)
    if not listed and not all(is_public(a) for a in addresses):
        raise HostRefused(NOT_ALLOWED)
    return addresses[0]


def account_servers_mark(*, account, sides) -> None:
    """Record that the user typed in these sides' servers ("incoming", "smtp") of `account` (kept marked until the
    administrator changes that server in the admin)."""
    sides = [side for side in SIDES if side in sides]
    if not sides:
        return
    marks, _created = UserServers.objects.get_or_create(account_id=account.pk)
    for side in sides:
        setattr(marks, side, True)
    marks.save(update_fields=sides)


def account_servers_unmark(*, account, sides) -> int:
    """The administrator set these sides' servers: used as they are from now on."""
    fields = {side: False for side in SIDES if side in sides}
    return UserServers.objects.filter(account_id=account.pk).update(**fields) if fields else 0


def account_server_typed(*, account, side: str) -> bool:
    """Whether the user typed in this side's server of the account (checked at connect time)."""
    return UserServers.objects.filter(account_id=account.pk, **{side: True}).exists()


def account_server_address(*, account, side: str) -> str | None:
    """Where to connect for one side of the account: the address checked just now if its user typed the server in
    (raises HostRefused), or None (the administrator's server: connect by its name)."""
    if not account_server_typed(account=account, side=side):
        return None
    return mail_host_check(host=getattr(account, f"{side}_host"), port=getattr(account, f"{side}_port"))
