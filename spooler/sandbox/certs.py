"""A private CA and a server certificate for the sandbox's TLS ports (openssl CLI)."""

from __future__ import annotations

import ipaddress
import os
import shutil
import subprocess
from pathlib import Path

from .config import SandboxError

_OPENSSL_CNF = """\
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = {cn}
[ ca_ext ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ server_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = {san}
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


def subject_alt_names(host: str) -> str:
    names = ["IP:127.0.0.1", "DNS:localhost"]
    if host not in ("127.0.0.1", "localhost", "0.0.0.0", "::", ""):
        try:
            ipaddress.ip_address(host)
            extra = f"IP:{host}"
        except ValueError:
            extra = f"DNS:{host}"
        names.append(extra)
    return ",".join(names)


def ensure_self_signed(tls_dir: Path, host: str) -> tuple[Path, Path, Path]:
    """Return (cert, key, ca), generating them under tls_dir unless already there.

    They are regenerated when the names they cover changed or the server
    certificate expires within a day.
    """
    ca, cert, key = tls_dir / "ca.pem", tls_dir / "server.pem", tls_dir / "server.key"
    san = subject_alt_names(host)
    stamp = tls_dir / "names"
    openssl = shutil.which("openssl")
    if openssl is None:
        raise SandboxError("openssl not found: install it (apt-get install openssl) "
                           "or give SandboxConfig.tls_cert and tls_key")
    if all(p.is_file() for p in (ca, cert, key)) and _read(stamp) == san:
        still_valid = subprocess.run(
            [openssl, "x509", "-checkend", "86400", "-noout", "-in", str(cert)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        ).returncode == 0
        if still_valid:
            return cert, key, ca
    tls_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(tls_dir, 0o700)
    cnf = tls_dir / "openssl.cnf"
    ca_key = tls_dir / "ca.key"
    csr = tls_dir / "server.csr"
    env = dict(os.environ, OPENSSL_CONF=str(cnf))

    def run(*args: str, cn: str) -> None:
        cnf.write_text(_OPENSSL_CNF.format(cn=cn, san=san))
        proc = subprocess.run([openssl, *args], env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SandboxError(f"openssl {args[0]} failed: {proc.stderr.strip()}")

    old_umask = os.umask(0o077)
    try:
        ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes")
        run("req", "-x509", *ec, "-keyout", str(ca_key), "-out", str(ca), "-days", "3650",
            "-config", str(cnf), "-extensions", "ca_ext", cn="Mailsite devmail sandbox CA")
        run("req", "-new", *ec, "-keyout", str(key), "-out", str(csr), "-config", str(cnf),
            cn="127.0.0.1")
        run("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
            "-set_serial", str(int.from_bytes(os.urandom(8), "big")), "-days", "825",
            "-extfile", str(cnf), "-extensions", "server_ext", "-out", str(cert),
            cn="127.0.0.1")
    finally:
        os.umask(old_umask)
    os.chmod(ca, 0o644)
    os.chmod(cert, 0o644)
    csr.unlink(missing_ok=True)
    stamp.write_text(san)
    return cert, key, ca


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None
