"""PostgreSQL over TLS with `sslmode=verify-full`, as docs/deployment.md sets it up: a server whose
certificate is signed by the trial's own certificate authority, reached by the documented URL form
`postgresql://user@host/db?sslmode=verify-full&sslrootcert=CA.pem`."""

from __future__ import annotations

import datetime as dt
import glob
import ipaddress
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import text

from kyphoangle.errors import StorageError
from kyphoangle.storage import open_database

pytestmark = pytest.mark.postgres


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _certificate_authority(common_name: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = _key()
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                key_encipherment=False, data_encipherment=False, key_agreement=False, encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    return certificate, key


def _server_certificate(
    authority: x509.Certificate, authority_key: ec.EllipticCurvePrivateKey, host: str
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = _key()
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(host))
        .issuer_name(authority.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(host))]
            ),
            critical=False,
        )
        .sign(authority_key, hashes.SHA256())
    )
    return certificate, key


@dataclass
class TlsServer:
    """A PostgreSQL server with TLS on, and the CA certificate that signed its certificate."""

    port: int
    ca_file: Path
    other_ca_file: Path

    def url(self, sslmode: str, ca_file: Path | None = None) -> str:
        """The documented URL form, with the TLS parameters."""
        root = ca_file or self.ca_file
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres?sslmode={sslmode}&sslrootcert={root}"


@pytest.fixture(scope="module")
def tls_server() -> Iterator[TlsServer]:
    """Start a PostgreSQL server with `ssl=on` and a certificate of a self-made CA for 127.0.0.1."""
    bin_dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name))
    if not bin_dirs:
        pytest.fail("PostgreSQL server binaries not found (install the Debian package 'postgresql')")
    bin_dir = Path(bin_dirs[-1])
    base = Path(tempfile.mkdtemp(prefix="kyphoangle-pg-tls-"))
    run_as: list[str] = []
    account = None
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(base, account.pw_uid, account.pw_gid)
        run_as = ["runuser", "-u", account.pw_name, "--"]
    authority, authority_key = _certificate_authority("kyphoangle test trial CA")
    other, _ = _certificate_authority("some other CA")
    certificate, key = _server_certificate(authority, authority_key, "127.0.0.1")
    ca_file, other_file = base / "ca.pem", base / "other-ca.pem"
    ca_file.write_bytes(authority.public_bytes(serialization.Encoding.PEM))
    other_file.write_bytes(other.public_bytes(serialization.Encoding.PEM))
    (base / "server.crt").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (base / "server.key").write_bytes(_pem_key(key))
    os.chmod(base / "server.key", 0o600)
    if account is not None:
        for name in ("server.crt", "server.key"):
            os.chown(base / name, account.pw_uid, account.pw_gid)
    data = base / "data"
    subprocess.run(
        [*run_as, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
         "--no-locale", "--no-sync"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    options = (
        f"-h 127.0.0.1,127.0.0.2 -p {port} -k {base} -c fsync=off -c ssl=on "
        f"-c ssl_cert_file={base / 'server.crt'} -c ssl_key_file={base / 'server.key'}"
    )
    log = base / "server.log"
    started = subprocess.run(
        [*run_as, str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-o", options, "start"],
        capture_output=True,
        text=True,
    )
    if started.returncode != 0:
        pytest.fail(f"PostgreSQL with TLS did not start: {started.stderr}\n{log.read_text()}", pytrace=False)
    try:
        yield TlsServer(port, ca_file, other_file)
    finally:
        subprocess.run(
            [*run_as, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)


def test_verify_full_connects_over_tls_to_the_server_the_ca_vouches_for(tls_server: TlsServer) -> None:
    database = open_database(tls_server.url("verify-full"))
    try:
        with database.reading() as session:
            row = session.execute(
                text("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            ).one()
        assert row.ssl is True
        assert str(row.version).startswith("TLSv1.")
    finally:
        database.dispose()


def test_verify_full_refuses_a_server_signed_by_another_ca(tls_server: TlsServer) -> None:
    with pytest.raises(StorageError, match="cannot open the database") as refused:
        open_database(tls_server.url("verify-full", tls_server.other_ca_file))
    assert "certificate verify failed" in str(refused.value)


def test_verify_full_refuses_a_host_name_the_certificate_does_not_name(tls_server: TlsServer) -> None:
    url = tls_server.url("verify-full").replace("@127.0.0.1:", "@127.0.0.2:")
    with pytest.raises(StorageError, match="cannot open the database") as refused:
        open_database(url)
    assert "does not match host name" in str(refused.value)
