"""Maildirs and passwd-files: the sandbox's mail store, shared with Dovecot.

Everything here works without a running sandbox, from any process (``manage.py``
commands add users to a ``devmail`` started elsewhere).
"""

from __future__ import annotations

import base64
import grp
import itertools
import os
import pwd
import socket
import stat
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .config import SandboxError


@dataclass(frozen=True)
class Accounts:
    """The system users a private Dovecot runs as.

    Run as root: Dovecot's own users (login processes as dovenull, internal ones
    and mail access as dovecot), and every file Dovecot must read or write is
    owned by the mail uid. Run as an ordinary user: everything is that user.
    """

    login_user: str
    internal_user: str
    internal_group: str
    mail_uid: int
    mail_gid: int
    chown: bool  # True when files we write must be given to mail_uid/mail_gid

    @classmethod
    def detect(cls) -> "Accounts":
        if os.geteuid() == 0:
            try:
                internal = pwd.getpwnam("dovecot")
                pwd.getpwnam("dovenull")
            except KeyError as exc:
                raise SandboxError(
                    "the system users dovecot and dovenull are missing (they come with "
                    "the dovecot-core package: apt-get install dovecot-pop3d dovecot-imapd)"
                ) from exc
            group = grp.getgrgid(internal.pw_gid).gr_name
            return cls("dovenull", "dovecot", group, internal.pw_uid, internal.pw_gid, True)
        try:
            me = pwd.getpwuid(os.geteuid())
        except KeyError as exc:
            raise SandboxError(
                f"uid {os.geteuid()} has no user name; Dovecot needs one to run as"
            ) from exc
        try:
            group = grp.getgrgid(os.getegid()).gr_name
        except KeyError as exc:
            raise SandboxError(
                f"gid {os.getegid()} has no group name; Dovecot needs one to run as"
            ) from exc
        return cls(me.pw_name, me.pw_name, group, os.geteuid(), os.getegid(), False)

    def give(self, path: Path | str) -> None:
        if self.chown:
            os.chown(path, self.mail_uid, self.mail_gid)


_counter = itertools.count()
_hostname = socket.gethostname().replace("/", "\\057").replace(":", "\\072") or "localhost"


def unreachable_part(path: Path, accounts: Accounts) -> Path | None:
    """The first of path's parents the mail user may not traverse, or None."""
    for part in path.parents:
        st = part.stat()
        if st.st_mode & stat.S_IXOTH:
            continue
        if st.st_uid == accounts.mail_uid and st.st_mode & stat.S_IXUSR:
            continue
        if st.st_gid == accounts.mail_gid and st.st_mode & stat.S_IXGRP:
            continue
        return part
    return None


class MailStore:
    """Maildirs under ``<data_dir>/mail/<domain>/<local>/Maildir``, users under
    ``<data_dir>/users`` (data_dir is the sandbox's base_dir, see Sandbox.data_dir)."""

    def __init__(self, data_dir: Path, domain: str, accounts: Accounts):
        self.data_dir = data_dir
        self.domain = domain
        self.accounts = accounts
        self.mail_root = data_dir / "mail"
        self.users_dir = data_dir / "users"

    # -- layout -----------------------------------------------------------------

    def home(self, local: str, domain: str) -> Path:
        return self.mail_root / domain / local

    def maildir(self, local: str, domain: str) -> Path:
        return self.home(local, domain) / "Maildir"

    def ensure_maildir(self, local: str, domain: str) -> Path:
        """Create the Maildir (and its parents) owned by the mail user; idempotent."""
        maildir = self.maildir(local, domain)
        if (maildir / "tmp").is_dir() and (maildir / "new").is_dir() and (maildir / "cur").is_dir():
            return maildir
        for path in (self.mail_root, self.mail_root / domain, self.home(local, domain), maildir,
                     maildir / "tmp", maildir / "new", maildir / "cur"):
            try:
                path.mkdir(mode=0o700)
            except FileExistsError:
                continue
            self.accounts.give(path)
        return maildir

    # -- delivery ---------------------------------------------------------------

    def deliver(self, local: str, domain: str, raw: bytes) -> Path:
        """Write ``raw`` into Maildir/tmp, then rename it into Maildir/new.

        The file holds exactly ``raw``. No fsync: this is a sandbox, and the rename
        alone makes the message appear whole or not at all.
        """
        if not isinstance(raw, (bytes, bytearray, memoryview)):
            raise TypeError("raw must be bytes")
        maildir = self.ensure_maildir(local, domain)
        now = time.time()
        name = (f"{int(now)}.M{int(now * 1_000_000) % 1_000_000}P{os.getpid()}"
                f"Q{next(_counter)}.{_hostname}")
        tmp = maildir / "tmp" / name
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(raw)
                if self.accounts.chown:
                    os.fchown(fh.fileno(), self.accounts.mail_uid, self.accounts.mail_gid)
            final = maildir / "new" / name
            os.rename(tmp, final)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return final

    # -- users --------------------------------------------------------------------
    #
    # One passwd-file per user, <base_dir>/users/<address>, and Dovecot's passdb path
    # is "<base_dir>/users/%Lu". Dovecot 2.3 stats a passwd-file at most once per
    # second per file (passwd_file_sync: "last_sync_time == ioloop_time"), so with
    # one shared file a user added within a second of any other login would be
    # "unknown". A new user's file has never been looked at, so it is read at once.

    def user_file(self, address: str) -> Path:
        return self.users_dir / address

    def has_user(self, address: str) -> bool:
        return self.user_file(address).is_file()

    def users(self) -> dict[str, str]:
        """{address: password} of every sandbox user."""
        result: dict[str, str] = {}
        try:
            entries = sorted(os.listdir(self.users_dir))
        except FileNotFoundError:
            return result
        for name in entries:
            if name.startswith("."):
                continue
            try:
                result.update(_parse_passwd(self.user_file(name).read_bytes()))
            except FileNotFoundError:
                continue
        return result

    def ensure_users_dir(self) -> None:
        try:
            self.users_dir.mkdir(mode=0o700, parents=True)
        except FileExistsError:
            return
        self.accounts.give(self.users_dir)

    def set_password(self, address: str, password: str) -> None:
        """Add the user or change their password (atomic replace of their file).

        A new user can log in at once. A changed password: Dovecot re-reads a
        passwd-file when its mtime (whole seconds) or size changes, at most once a
        second, so the file's mtime is moved past the old one and this call returns
        only once a new second has begun; the very next login sees the new password.
        """
        if not isinstance(password, str) or not password:
            raise ValueError("the password must be a non-empty string")
        self.ensure_users_dir()
        path = self.user_file(address)
        try:
            old_mtime = int(os.stat(path).st_mtime)
            if _parse_passwd(path.read_bytes()).get(address) == password:
                return  # unchanged: nothing to write, nothing to wait for
        except FileNotFoundError:
            old_mtime = None
        secret = base64.b64encode(password.encode("utf-8")).decode("ascii")
        tmp = self.users_dir / f".{address}.{os.getpid()}.{threading.get_ident()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(f"{address}:{{PLAIN.B64}}{secret}\n")
                if self.accounts.chown:
                    os.fchown(fh.fileno(), self.accounts.mail_uid, self.accounts.mail_gid)
            if old_mtime is not None:
                started = time.time()
                mtime = max(started, old_mtime + 1)
                os.utime(tmp, (mtime, mtime))
            os.rename(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        if old_mtime is not None:
            # Let Dovecot's once-a-second gate open before the caller logs in.
            time.sleep(max(0.0, int(started) + 1.02 - time.time()))


def _parse_passwd(data: bytes) -> dict[str, str]:
    users: dict[str, str] = {}
    for line in data.decode("utf-8", "replace").splitlines():
        if not line or line.startswith("#"):
            continue
        address, _, rest = line.partition(":")
        secret = rest.split(":", 1)[0]
        if secret.startswith("{PLAIN.B64}"):
            try:
                users[address] = base64.b64decode(secret[len("{PLAIN.B64}"):]).decode("utf-8")
            except ValueError:
                continue
        elif secret.startswith("{PLAIN}"):
            users[address] = secret[len("{PLAIN}"):]
    return users
