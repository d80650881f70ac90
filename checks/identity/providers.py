"""Access tokens and key sets shaped like those of four identity providers, each made with a
different third-party JOSE library, with keys generated per run.

Each provider publishes its JWKS the way it really does (which members, `kid`/`alg`
present or not, extra keys) and lays out its claims the way it really does; `settings`
is what a user writes for it, the README's block for that provider, word for word.

| provider | library | JWKS | claims |
|---|---|---|---|
| Keycloak | PyJWT | RS256 key with kid/alg/x5c, plus an `RSA-OAEP` `use: enc` key | roles in `realm_access.roles` and `resource_access.<client>.roles`, ids from mappers named `lms.student_ids` (nested) |
| Entra ID (v2) | python-jose | three RSA keys, kid = x5t, no `alg` | app roles in `roles` (`LMS.Admin`), user in `oid`, `extn.*` claims (dots in a top-level name) |
| Auth0 | authlib | two RS256 keys (current, next) with x5c | namespaced claims `https://lms.example.com/roles` |
| Okta | joserfc | RS256 keys with kid/alg/use | groups in `groups`, header `kid`+`alg` only (or `typ: at+jwt`) |
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class Person:
    """Someone in the learning platform, in the gateway's terms."""

    key: str
    roles: tuple[str, ...]
    students: tuple[str, ...] = ()  # keys of the students this person follows
    courses: tuple[str, ...] = ()


STUDENT_A = Person("a", ("student",))
STUDENT_B = Person("b", ("student",))
INSTRUCTOR = Person("i", ("instructor",), students=("a",), courses=("c-1",))
ADMIN = Person("admin", ("admin",))
PEOPLE = (STUDENT_A, STUDENT_B, INSTRUCTOR, ADMIN)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class SigningKey:
    """An RSA key pair generated for this run, its PEMs and a self-signed certificate (x5c)."""

    kid: str
    private: rsa.RSAPrivateKey = field(default_factory=lambda: rsa.generate_private_key(65537, 2048))

    @property
    def private_pem(self) -> bytes:
        return self.private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    @property
    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def certificate_der(self, subject: str) -> bytes:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
        now = datetime.datetime.now(datetime.timezone.utc)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.private.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=365))
            .sign(self.private, hashes.SHA256())
        )
        return certificate.public_bytes(serialization.Encoding.DER)

    def x509_members(self, subject: str) -> dict:
        der = self.certificate_der(subject)
        return {
            "x5c": [base64.b64encode(der).decode()],
            "x5t": b64url(hashlib.sha1(der).digest()),
            "x5t#S256": b64url(hashlib.sha256(der).digest()),
        }


def lifetime(seconds: int = 600) -> dict:
    now = int(time.time())
    return {"iat": now, "nbf": now, "exp": now + seconds}


class Provider:
    """What every provider offers the tests."""

    name = ""
    jwks_path = ""

    def __init__(self):
        self.origin = ""  # the key server's origin, known once it listens
        self.ids = {person.key: self.user_id(person) for person in PEOPLE}

    def user_id(self, person: Person) -> str:
        """The id the gateway reads as the user's subject (what events name)."""
        raise NotImplementedError

    def jwks(self) -> dict:
        raise NotImplementedError

    def settings(self, jwks_url: str) -> dict[str, str]:
        raise NotImplementedError

    def token(self, person: Person, **overrides) -> str:
        raise NotImplementedError

    def foreign_token(self, person: Person) -> str:
        """A token shaped like this provider's, signed by a key it never published."""
        raise NotImplementedError


class Keycloak(Provider):
    """Keycloak 26 realm `lms`, client `sse-gateway`; tokens from PyJWT."""

    name = "keycloak"
    jwks_path = "/realms/lms/protocol/openid-connect/certs"

    def __init__(self):
        super().__init__()
        self.signing = SigningKey(kid=b64url(secrets.token_bytes(32)))
        self.encryption = SigningKey(kid=b64url(secrets.token_bytes(32)))
        self.subjects = {person.key: str(uuid.uuid4()) for person in PEOPLE}

    def user_id(self, person: Person) -> str:
        return {"a": "s-1001", "b": "s-1002", "i": "i-2001", "admin": "admin-1"}[person.key]

    @property
    def issuer(self) -> str:
        return self.origin + "/realms/lms"

    def jwks(self) -> dict:
        from jwt.algorithms import RSAAlgorithm

        def published(key: SigningKey, alg: str, use: str) -> dict:
            jwk = RSAAlgorithm.to_jwk(key.private.public_key(), as_dict=True)
            jwk.pop("key_ops", None)
            return {"kid": key.kid, "kty": "RSA", "alg": alg, "use": use, **jwk, **key.x509_members("lms")}

        return {"keys": [published(self.encryption, "RSA-OAEP", "enc"), published(self.signing, "RS256", "sig")]}

    def settings(self, jwks_url: str) -> dict[str, str]:
        return {
            "GATEWAY_JWKS_URL": jwks_url,
            "GATEWAY_JWT_ISSUER": self.issuer,
            "GATEWAY_JWT_AUDIENCE": "sse-gateway",
            "GATEWAY_JWT_ALGORITHMS": "RS256",
            "GATEWAY_JWT_CLAIM_SUBJECT": "preferred_username",
            "GATEWAY_JWT_CLAIM_ROLES": "realm_access.roles,resource_access.sse-gateway.roles",
            "GATEWAY_JWT_ROLE_MAP": "lms-student=student,lms-instructor=instructor,lms-admin=admin",
            "GATEWAY_JWT_CLAIM_STUDENT_IDS": "lms.student_ids",
            "GATEWAY_JWT_CLAIM_COURSE_IDS": "lms.course_ids",
        }

    def claims(self, person: Person) -> dict:
        realm_roles = ["default-roles-lms", "offline_access", "uma_authorization"]
        client_roles = []
        for role in person.roles:
            # Students and admins are realm roles here, instructors a client role.
            (client_roles if role == "instructor" else realm_roles).append("lms-" + role)
        claims = {
            **lifetime(),
            "exp": int(time.time()) + 300,
            "auth_time": int(time.time()),
            "jti": "onrtac:" + str(uuid.uuid4()),
            "iss": self.issuer,
            "aud": ["sse-gateway", "account"],
            "sub": self.subjects[person.key],
            "typ": "Bearer",
            "azp": "lms-web",
            "sid": str(uuid.uuid4()),
            "acr": "1",
            "allowed-origins": ["https://app.example.com"],
            "realm_access": {"roles": realm_roles},
            "resource_access": {"account": {"roles": ["manage-account", "view-profile"]}},
            "scope": "openid profile email",
            "email_verified": True,
            "preferred_username": self.user_id(person),
            "email": self.user_id(person) + "@lms.example.com",
        }
        claims.pop("nbf")
        if client_roles:
            claims["resource_access"]["sse-gateway"] = {"roles": client_roles}
        # Protocol mappers with the claim names `lms.student_ids` and `lms.course_ids`:
        # Keycloak nests a mapper's claim at the dots.
        lms = {}
        if person.students:
            lms["student_ids"] = [self.ids[key] for key in person.students]
        if person.courses:
            lms["course_ids"] = list(person.courses)
        if lms:
            claims["lms"] = lms
        return claims

    def token(self, person: Person, **overrides) -> str:
        import jwt

        claims = self.claims(person) | overrides
        return jwt.encode(claims, self.signing.private_pem, algorithm="RS256", headers={"kid": self.signing.kid})

    def foreign_token(self, person: Person) -> str:
        import jwt

        stranger = SigningKey(kid=b64url(secrets.token_bytes(32)))
        return jwt.encode(self.claims(person), stranger.private_pem, algorithm="RS256", headers={"kid": stranger.kid})


class EntraID(Provider):
    """Microsoft Entra ID v2.0 access tokens for an API app registration; python-jose."""

    name = "entra-id"

    def __init__(self):
        self.tenant = str(uuid.uuid4())
        self.api = str(uuid.uuid4())  # the API's application (client) id: v2 tokens' aud
        self.spa = str(uuid.uuid4())
        self.object_ids = {person.key: str(uuid.uuid4()) for person in PEOPLE}
        super().__init__()
        # Entra publishes several keys, kid == x5t, and no alg; tokens use one of them.
        self.keys = []
        for _ in range(3):
            key = SigningKey(kid="")
            key.x509 = key.x509_members("accounts.accesscontrol.windows.net")
            key.kid = key.x509["x5t"]
            self.keys.append(key)
        self.signing = self.keys[1]

    @property
    def jwks_path(self) -> str:
        return f"/{self.tenant}/discovery/v2.0/keys"

    @property
    def issuer(self) -> str:
        return f"https://login.microsoftonline.com/{self.tenant}/v2.0"

    def user_id(self, person: Person) -> str:
        return self.object_ids[person.key]

    def jwks(self) -> dict:
        from jose import jwk

        keys = []
        for key in self.keys:
            public = jwk.construct(key.public_pem.decode(), "RS256").to_dict()
            keys.append(
                {
                    "kty": "RSA",
                    "use": "sig",
                    "kid": key.kid,
                    "x5t": key.kid,
                    "n": public["n"],
                    "e": public["e"],
                    "x5c": key.x509["x5c"],
                    "cloud_instance_name": "microsoftonline.com",
                    "issuer": self.issuer,
                }
            )
        return {"keys": keys}

    def settings(self, jwks_url: str) -> dict[str, str]:
        return {
            "GATEWAY_JWKS_URL": jwks_url,
            "GATEWAY_JWT_ISSUER": self.issuer,
            "GATEWAY_JWT_AUDIENCE": self.api,
            "GATEWAY_JWT_ALGORITHMS": "RS256",
            "GATEWAY_JWT_CLAIM_SUBJECT": "oid",
            "GATEWAY_JWT_ROLE_MAP": "LMS.Student=student,LMS.Instructor=instructor,LMS.Admin=admin",
            "GATEWAY_JWT_CLAIM_STUDENT_IDS": "extn.studentIds",
            "GATEWAY_JWT_CLAIM_COURSE_IDS": "extn.courseIds",
        }

    def claims(self, person: Person) -> dict:
        claims = {
            **lifetime(3600),
            "aud": self.api,
            "iss": self.issuer,
            "aio": b64url(secrets.token_bytes(48)),
            "azp": self.spa,
            "azpacr": "0",
            "name": f"Person {person.key}",
            "oid": self.object_ids[person.key],
            "preferred_username": f"{person.key}@contoso.edu",
            "rh": "0.AXEA" + b64url(secrets.token_bytes(24)) + ".",
            "roles": ["LMS." + role.capitalize() for role in person.roles],
            "scp": "Events.Read",
            "sub": b64url(secrets.token_bytes(32)),  # pairwise per app, not the user id
            "tid": self.tenant,
            "uti": b64url(secrets.token_bytes(16)),
            "ver": "2.0",
        }
        # Directory extensions as optional claims: Entra names them `extn.<attribute>`.
        if person.students:
            claims["extn.studentIds"] = [self.ids[key] for key in person.students]
        if person.courses:
            claims["extn.courseIds"] = list(person.courses)
        return claims

    def token(self, person: Person, **overrides) -> str:
        from jose import jwt

        claims = self.claims(person) | overrides
        return jwt.encode(
            claims, self.signing.private_pem.decode(), algorithm="RS256", headers={"kid": self.signing.kid}
        )

    def foreign_token(self, person: Person) -> str:
        from jose import jwt

        stranger = SigningKey(kid=b64url(secrets.token_bytes(20)))
        return jwt.encode(
            self.claims(person), stranger.private_pem.decode(), algorithm="RS256", headers={"kid": stranger.kid}
        )


class Auth0(Provider):
    """An Auth0 tenant with an API and an Action adding namespaced claims; authlib."""

    name = "auth0"
    jwks_path = "/.well-known/jwks.json"
    tenant = "https://lms-test.eu.auth0.com/"
    namespace = "https://lms.example.com/"

    def __init__(self):
        self.user_ids = {person.key: "auth0|" + secrets.token_hex(12) for person in PEOPLE}
        super().__init__()
        self.current = SigningKey(kid=b64url(secrets.token_bytes(16)))
        self.next = SigningKey(kid=b64url(secrets.token_bytes(16)))

    def user_id(self, person: Person) -> str:
        return self.user_ids[person.key]

    def jwks(self) -> dict:
        from authlib.jose import JsonWebKey

        keys = []
        for key in (self.current, self.next):
            public = JsonWebKey.import_key(key.public_pem, {"kty": "RSA"}).as_dict(is_private=False)
            x509_members = key.x509_members("lms-test.eu.auth0.com")
            keys.append(
                {
                    "kty": "RSA",
                    "use": "sig",
                    "n": public["n"],
                    "e": public["e"],
                    "kid": key.kid,
                    "x5t": x509_members["x5t"],
                    "x5c": x509_members["x5c"],
                    "alg": "RS256",
                }
            )
        return {"keys": keys}

    def settings(self, jwks_url: str) -> dict[str, str]:
        return {
            "GATEWAY_JWKS_URL": jwks_url,
            "GATEWAY_JWT_ISSUER": self.tenant,
            "GATEWAY_JWT_AUDIENCE": "https://api.lms.example.com",
            "GATEWAY_JWT_ALGORITHMS": "RS256",
            "GATEWAY_JWT_CLAIM_ROLES": self.namespace + "roles",
            "GATEWAY_JWT_CLAIM_STUDENT_IDS": self.namespace + "student_ids",
            "GATEWAY_JWT_CLAIM_COURSE_IDS": self.namespace + "course_ids",
        }

    def claims(self, person: Person) -> dict:
        claims = {
            self.namespace + "roles": list(person.roles),
            "iss": self.tenant,
            "sub": self.user_ids[person.key],
            "aud": ["https://api.lms.example.com", self.tenant + "userinfo"],
            **lifetime(86400),
            "scope": "openid profile email read:events",
            "azp": secrets.token_hex(16),
            "permissions": ["read:events"],
        }
        claims.pop("nbf")
        if person.students:
            claims[self.namespace + "student_ids"] = [self.ids[key] for key in person.students]
        if person.courses:
            claims[self.namespace + "course_ids"] = list(person.courses)
        return claims

    def token(self, person: Person, **overrides) -> str:
        from authlib.jose import JsonWebKey, jwt

        key = JsonWebKey.import_key(self.current.private_pem, {"kty": "RSA"})
        header = {"alg": "RS256", "typ": "JWT", "kid": self.current.kid}
        return jwt.encode(header, self.claims(person) | overrides, key).decode()

    def foreign_token(self, person: Person) -> str:
        from authlib.jose import JsonWebKey, jwt

        stranger = SigningKey(kid=b64url(secrets.token_bytes(16)))
        key = JsonWebKey.import_key(stranger.private_pem, {"kty": "RSA"})
        return jwt.encode({"alg": "RS256", "typ": "JWT", "kid": stranger.kid}, self.claims(person), key).decode()


class Okta(Provider):
    """An Okta custom authorization server `default` with a `groups` claim; joserfc."""

    name = "okta"
    jwks_path = "/oauth2/default/v1/keys"
    issuer = "https://dev-1234567.okta.com/oauth2/default"

    def __init__(self):
        super().__init__()
        self.keys = [SigningKey(kid=b64url(secrets.token_bytes(32))) for _ in range(2)]
        self.uids = {person.key: "00u" + secrets.token_hex(8) for person in PEOPLE}

    def user_id(self, person: Person) -> str:
        return f"{person.key}@lms.example.com"  # Okta's sub is the user's login

    def jwks(self) -> dict:
        from joserfc.jwk import RSAKey

        keys = []
        for key in self.keys:
            public = RSAKey.import_key(key.public_pem).as_dict(private=False)
            keys.append({"kty": "RSA", "alg": "RS256", "kid": key.kid, "use": "sig", "e": public["e"], "n": public["n"]})
        return {"keys": keys}

    def settings(self, jwks_url: str) -> dict[str, str]:
        return {
            "GATEWAY_JWKS_URL": jwks_url,
            "GATEWAY_JWT_ISSUER": self.issuer,
            "GATEWAY_JWT_AUDIENCE": "api://default",
            "GATEWAY_JWT_ALGORITHMS": "RS256",
            "GATEWAY_JWT_CLAIM_ROLES": "groups",
            "GATEWAY_JWT_ROLE_MAP": "LMS-Students=student,LMS-Instructors=instructor,LMS-Admins=admin",
            "GATEWAY_JWT_CLAIM_STUDENT_IDS": "lmsStudentIds",
            "GATEWAY_JWT_CLAIM_COURSE_IDS": "lmsCourseIds",
        }

    def claims(self, person: Person) -> dict:
        groups = {"student": "LMS-Students", "instructor": "LMS-Instructors", "admin": "LMS-Admins"}
        claims = {
            "ver": 1,
            "jti": "AT." + b64url(secrets.token_bytes(32)),
            "iss": self.issuer,
            "aud": "api://default",
            **lifetime(3600),
            "cid": "0oa" + secrets.token_hex(8),
            "uid": self.uids[person.key],
            "scp": ["openid", "events.read"],
            "auth_time": int(time.time()),
            "sub": self.user_id(person),
            "groups": ["Everyone"] + [groups[role] for role in person.roles],
        }
        claims.pop("nbf")
        if person.students:
            claims["lmsStudentIds"] = [self.ids[key] for key in person.students]
        if person.courses:
            claims["lmsCourseIds"] = list(person.courses)
        return claims

    def token(self, person: Person, typ: str | None = None, **overrides) -> str:
        from joserfc import jwt
        from joserfc.jwk import RSAKey

        key = self.keys[0]
        header = {"kid": key.kid, "alg": "RS256"} | ({"typ": typ} if typ else {})
        return jwt.encode(header, self.claims(person) | overrides, RSAKey.import_key(key.private_pem))

    def foreign_token(self, person: Person) -> str:
        from joserfc import jwt
        from joserfc.jwk import RSAKey

        stranger = SigningKey(kid=b64url(secrets.token_bytes(32)))
        header = {"kid": stranger.kid, "alg": "RS256"}
        return jwt.encode(header, self.claims(person), RSAKey.import_key(stranger.private_pem))


PROVIDERS = (Keycloak, EntraID, Auth0, Okta)
