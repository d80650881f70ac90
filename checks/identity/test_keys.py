"""JWKS keys as providers publish them, beyond the four providers' own shapes: keys
without `kid`, keys without `alg` (every algorithm of their type), Ed25519 under RFC
9864's name, P-521. Tokens come from PyJWT, joserfc and authlib; the JWKS is served
over HTTP; the binary runs on its default algorithm allow-list.
"""

from __future__ import annotations

import base64
import time

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from providers import SigningKey, b64url

ALL_TOPICS = ["student.progress", "learning.events", "system.notifications"]


def claims(subject: str = "s-1") -> dict:
    now = int(time.time())
    return {"sub": subject, "roles": ["student"], "iat": now, "exp": now + 600}


def gateway_for(key_server, start_gateway, jwks: dict):
    server = key_server("/jwks", jwks)
    return start_gateway({"GATEWAY_JWKS_URL": server.url}), server


def rsa_jwk(key: SigningKey) -> dict:
    from jwt.algorithms import RSAAlgorithm

    jwk = RSAAlgorithm.to_jwk(key.private.public_key(), as_dict=True)
    jwk.pop("key_ops", None)
    return jwk


def test_a_single_key_without_kid_verifies_tokens_with_and_without_kid(key_server, start_gateway):
    import jwt

    key = SigningKey(kid="")
    gateway, _ = gateway_for(key_server, start_gateway, {"keys": [{**rsa_jwk(key), "use": "sig", "alg": "RS256"}]})
    without_kid = jwt.encode(claims(), key.private_pem, algorithm="RS256")
    assert "kid" not in jwt.get_unverified_header(without_kid)
    assert gateway.ready_frame(without_kid)["topics"] == ALL_TOPICS
    with_kid = jwt.encode(claims(), key.private_pem, algorithm="RS256", headers={"kid": "named-by-the-issuer"})
    assert gateway.ready_frame(with_kid)["topics"] == ALL_TOPICS
    # Someone else's key, no kid: the one key of that type refuses the signature.
    forged = jwt.encode(claims(), SigningKey(kid="").private_pem, algorithm="RS256")
    status, body = gateway.poll(forged)
    assert status == 401 and body["code"] == "bad_signature", body


@pytest.mark.parametrize("algorithm", ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"])
def test_an_rsa_key_without_alg_verifies_every_rsa_algorithm(key_server, start_gateway, algorithm):
    import jwt

    key = SigningKey(kid="entra-like")
    gateway, _ = gateway_for(key_server, start_gateway, {"keys": [{**rsa_jwk(key), "use": "sig", "kid": key.kid}]})
    token = jwt.encode(claims(), key.private_pem, algorithm=algorithm, headers={"kid": key.kid})
    status, body = gateway.poll(token)
    assert status == 200, body


def test_ed25519_keys_and_tokens_under_either_name(key_server, start_gateway):
    from joserfc import jwt
    from joserfc.jwk import OKPKey

    key = OKPKey.generate_key("Ed25519", parameters={"kid": "ed-1"})
    public = key.as_dict(private=False) | {"alg": "Ed25519", "use": "sig"}
    gateway, _ = gateway_for(key_server, start_gateway, {"keys": [public]})
    for algorithm in ("Ed25519", "EdDSA"):
        token = jwt.encode({"alg": algorithm, "kid": "ed-1"}, claims(), key, algorithms=[algorithm])
        status, body = gateway.poll(token)
        assert status == 200, (algorithm, body)


def test_a_p521_key_without_alg_and_with_a_short_coordinate_verifies_es512(key_server, start_gateway):
    from authlib.jose import JsonWebKey, jwt
    from cryptography.hazmat.primitives import serialization

    # authlib drops a coordinate's leading zero byte (RFC 7518 wants 66 bytes for P-521),
    # which half of all P-521 keys have: take such a key, as a provider using authlib would.
    for _ in range(64):
        private = ec.generate_private_key(ec.SECP521R1())
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        key = JsonWebKey.import_key(pem, {"kty": "EC"})
        public = key.as_dict(is_private=False) | {"kid": "p521"}
        if len(base64.urlsafe_b64decode(public["x"] + "==")) < 66:
            break
    else:
        pytest.fail("no P-521 key with a leading zero byte in 64 tries")
    public.pop("alg", None)
    gateway, _ = gateway_for(key_server, start_gateway, {"keys": [public]})
    token = jwt.encode({"alg": "ES512", "kid": "p521"}, claims(), key).decode()
    status, body = gateway.poll(token)
    assert status == 200, body


def test_a_rotated_in_key_without_kid_is_found_by_a_refetch(key_server, start_gateway):
    """The provider starts publishing a key while the gateway runs: a token no key fits
    makes the gateway fetch the set again (after GATEWAY_JWKS_MIN_REFRESH_SECONDS)."""
    import jwt

    old = SigningKey(kid="")
    server = key_server("/jwks", {"keys": [{**rsa_jwk(old), "alg": "RS256"}]})
    gateway = start_gateway({"GATEWAY_JWKS_URL": server.url, "GATEWAY_JWKS_MIN_REFRESH_SECONDS": "0"})
    private = ed25519.Ed25519PrivateKey.generate()
    from cryptography.hazmat.primitives import serialization

    raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    server.publish({"keys": [{**rsa_jwk(old), "alg": "RS256"}, {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw)}]})
    token = jwt.encode(claims(), private, algorithm="EdDSA")
    status, body = gateway.poll(token)
    assert status == 200, body
