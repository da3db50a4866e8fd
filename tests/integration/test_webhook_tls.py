"""HTTPS delivery pinned to the checked address: the certificate is verified against the URL's name, via SNI."""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.receiver import Receiver, receiver
from vidplat.adapters.outbound.webhooks import GuardedWebhookSender

NAME = "hooks.example.com"
SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def _certificate(
    subject: str, issuer: x509.Name, key: ec.EllipticCurvePrivateKey, signer: ec.EllipticCurvePrivateKey, *, ca: bool
) -> x509.Certificate:
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False)
    return builder.sign(signer, hashes.SHA256())


@pytest.fixture
def tls(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(the receiver's server context with a certificate for NAME, a client context trusting only its CA)."""
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = _certificate(
        "test CA", x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")]), ca_key, ca_key, ca=True
    )
    server = _certificate(NAME, ca.subject, server_key, ca_key, ca=False)
    chain, key = tmp_path / "server.pem", tmp_path / "server.key"
    chain.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(chain, key)
    client_context = ssl.create_default_context(cadata=ca.public_bytes(serialization.Encoding.PEM).decode())
    return server_context, client_context


def _sender(client: ssl.SSLContext) -> GuardedWebhookSender:
    async def resolve(host: str, port: int) -> Sequence[str]:
        return ["127.0.0.1"]  # every name is this machine: the certificate alone tells them apart

    return GuardedWebhookSender(allow_private=True, resolve=resolve, verify=client)


def _port(hook: Receiver) -> str:
    return hook.url.split(":")[2].split("/")[0]


async def test_https_to_a_name_reaches_the_pinned_address_and_verifies_the_certificate_for_that_name(
    tls: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    server, client = tls
    with receiver(tls=server) as hook:
        status = await _sender(client).send(
            f"https://{NAME}:{_port(hook)}/hooks", SECRET, "msg_1", datetime.now(UTC), b'{"type":"video.ready"}'
        )
    assert status == 200
    [request] = hook.received
    assert request.headers["host"] == f"{NAME}:{_port(hook)}"
    assert request.verified(SECRET) == {"type": "video.ready"}


async def test_https_to_a_name_the_certificate_does_not_cover_gets_no_response(
    tls: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    server, client = tls
    with receiver(tls=server) as hook:
        status = await _sender(client).send(
            f"https://other.example.com:{_port(hook)}/hooks", SECRET, "msg_1", datetime.now(UTC), b"{}"
        )
    assert status is None
    assert hook.received == []
