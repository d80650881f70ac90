import Foundation
import JWTKit

/// One key that may verify tokens, and the one algorithm it verifies them with.
///
/// Each (key, algorithm) pair sits in a key collection of its own, as the default key, so
/// jwt-kit can never fall back from an unknown `kid` to some other key, and never picks
/// the algorithm itself (for a JWK without `alg` it would take the first token's `alg`
/// and keep it).
package struct VerificationKey: Sendable {
    /// The `kid`, when the key has one.
    package let keyID: String?
    /// Algorithms this key verifies (`alg` header values).
    package let algorithms: Set<String>
    /// The jwt-kit collection holding just this key.
    package let collection: JWTKeyCollection

    /// The `alg` names of one key type, in the order they are offered.
    package static let rsaAlgorithms = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"]
    /// Every algorithm a key of the gateway can verify with.
    package static let supportedAlgorithms: Set<String> = Set(
        ["HS256", "HS384", "HS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"] + rsaAlgorithms
    )

    /// The name an algorithm is matched by: RFC 9864's `Ed25519` is the one `EdDSA`
    /// curve the gateway verifies, so the two are the same algorithm here.
    package static func canonicalName(_ algorithm: String) -> String {
        algorithm == "Ed25519" ? "EdDSA" : algorithm
    }

    /// HMAC keys for HS256/384/512 from one shared secret.
    ///
    /// An algorithm is offered only when the secret is at least as long as its hash
    /// (RFC 7518 section 3.2): a 32-byte secret verifies HS256 only.
    package static func hmac(secret: String) async -> [VerificationKey] {
        let key = HMACKey(from: secret)
        var keys: [VerificationKey] = []
        let candidates = [("HS256", DigestAlgorithm.sha256, 32), ("HS384", .sha384, 48), ("HS512", .sha512, 64)]
        for (name, digest, minimumBytes) in candidates where secret.utf8.count >= minimumBytes {
            let collection = JWTKeyCollection()
            await collection.add(hmac: key, digestAlgorithm: digest)
            keys.append(VerificationKey(keyID: nil, algorithms: [name], collection: collection))
        }
        return keys
    }

    /// Keys from one PEM public key: RSA (RS256/384/512, PS256/384/512), EC P-256, P-384
    /// or P-521 (the ES algorithm of its curve), Ed25519 (EdDSA).
    package static func pem(_ pem: String, keyID: String?) async throws(KeyLoadingError) -> [VerificationKey] {
        if let rsa = try? Insecure.RSA.PublicKey(pem: pem) {
            return await rsaKeys(rsa, keyID: keyID, algorithms: rsaAlgorithms)
        }
        if let p256 = try? ES256PublicKey(pem: pem) {
            return [await single(keyID, "ES256") { await $0.add(ecdsa: p256) }]
        }
        if let p384 = try? ES384PublicKey(pem: pem) {
            return [await single(keyID, "ES384") { await $0.add(ecdsa: p384) }]
        }
        if let p521 = try? ES512PublicKey(pem: pem) {
            return [await single(keyID, "ES512") { await $0.add(ecdsa: p521) }]
        }
        if let ed = try? EdDSA.PublicKey(pem: pem) { return [await single(keyID, "EdDSA") { await $0.add(eddsa: ed) }] }
        throw .unreadablePEM
    }

    /// Signing keys from a JWKS document, as identity providers publish them (RFC 7517).
    ///
    /// A key without `kid` is kept (single-key sets often omit it). A key without `alg`
    /// verifies every algorithm of its type (Entra ID publishes RSA keys that way);
    /// `alg: Ed25519` (RFC 9864) is EdDSA. Encryption keys (`use: enc`, or `key_ops`
    /// without `verify`), private keys, symmetric keys and unsupported types are skipped
    /// and listed in `skipped`, so one odd key never costs the others.
    package static func jwks(_ json: [UInt8]) async throws(KeyLoadingError) -> JWKSKeys {
        // Fetched at most once per refresh interval and bounded to 1 MiB: Foundation's
        // decoder is fine here (the event path has its own scanner).
        guard let document = try? JSONDecoder().decode(JSONValue.self, from: Data(json)),
            case .array(let entries)? = document["keys"]
        else {
            throw .unreadableJWKS
        }
        var loaded = JWKSKeys()
        for entry in entries.prefix(maximumJWKSKeys) {
            let keyID = entry["kid"]?.scalarText
            do throws(SkipReason) {
                loaded.keys += try await jwk(entry, keyID: keyID)
            } catch {
                loaded.skipped.append(SkippedKey(keyID: keyID, reason: error))
            }
        }
        if entries.count > maximumJWKSKeys {
            loaded.skipped.append(SkippedKey(keyID: nil, reason: .tooManyKeys(entries.count)))
        }
        return loaded
    }

    /// More keys than any provider publishes; the rest of a larger set is ignored, so a
    /// kid-less token is never tried against an unbounded number of keys.
    package static let maximumJWKSKeys = 64

    private static func jwk(_ entry: JSONValue, keyID: String?) async throws(SkipReason) -> [VerificationKey] {
        func member(_ name: String) -> String? {
            if case .string(let text)? = entry[name] { return text }
            return nil
        }
        if let use = member("use"), use != "sig" { throw .notForSigning("use: \(use.prefix(16))") }
        if case .array(let operations)? = entry["key_ops"], !operations.contains(.string("verify")) {
            throw .notForSigning("key_ops without verify")
        }
        if member("d") != nil { throw .privateKey }
        let declared = member("alg").map(canonicalName)
        func algorithms(_ family: [String]) throws(SkipReason) -> [String] {
            guard let declared else { return family }
            guard family.contains(declared) else { throw .unsupported("alg \(declared.prefix(16))") }
            return [declared]
        }
        switch member("kty") {
        case "RSA":
            guard let n = member("n"), let e = member("e"),
                let rsa = try? Insecure.RSA.PublicKey(modulus: n, exponent: e)
            else { throw .unreadable }
            let chosen = try algorithms(rsaAlgorithms)
            return await rsaKeys(rsa, keyID: keyID, algorithms: chosen)
        case "EC":
            // The curve decides the algorithm (RFC 7518 section 3.4).
            let curve = member("crv") ?? ""
            guard let name = ["P-256": "ES256", "P-384": "ES384", "P-521": "ES512"][curve] else {
                throw .unsupported("crv \(curve.prefix(16))")
            }
            _ = try algorithms([name])
            // RFC 7518 wants each coordinate at the curve's full size; some libraries drop
            // leading zero bytes (a P-521 coordinate is 65 bytes then), so pad them back.
            let size = ["ES256": 32, "ES384": 48, "ES512": 66][name] ?? 0
            guard let x = member("x").flatMap({ Self.coordinate($0, size: size) }),
                let y = member("y").flatMap({ Self.coordinate($0, size: size) })
            else { throw .unreadable }
            let add: @Sendable (JWTKeyCollection) async -> Void
            switch name {
            case "ES256":
                guard let key = try? ES256PublicKey(parameters: (x, y)) else { throw .unreadable }
                add = { await $0.add(ecdsa: key) }
            case "ES384":
                guard let key = try? ES384PublicKey(parameters: (x, y)) else { throw .unreadable }
                add = { await $0.add(ecdsa: key) }
            default:
                guard let key = try? ES512PublicKey(parameters: (x, y)) else { throw .unreadable }
                add = { await $0.add(ecdsa: key) }
            }
            return [await single(keyID, name, add)]
        case "OKP":
            guard member("crv") == "Ed25519" else { throw .unsupported("crv \((member("crv") ?? "").prefix(16))") }
            guard let x = member("x"), let key = try? EdDSA.PublicKey(x: x, curve: .ed25519) else { throw .unreadable }
            _ = try algorithms(["EdDSA"])
            return [await single(keyID, "EdDSA") { await $0.add(eddsa: key) }]
        case let type:
            throw .unsupported("kty \((type ?? "none").prefix(16))")
        }
    }

    /// An EC coordinate as base64url of exactly `size` bytes, or `nil` if it is longer.
    private static func coordinate(_ text: String, size: Int) -> String? {
        guard let bytes = Data(base64URLEncoded: text), bytes.count <= size else { return nil }
        return (Data(count: size - bytes.count) + bytes).base64URLEncoded()
    }

    private static func rsaKeys(
        _ rsa: Insecure.RSA.PublicKey,
        keyID: String?,
        algorithms: [String]
    ) async -> [VerificationKey] {
        var keys: [VerificationKey] = []
        for name in algorithms {
            let digest: DigestAlgorithm = name.hasSuffix("256") ? .sha256 : name.hasSuffix("384") ? .sha384 : .sha512
            keys.append(
                await single(keyID, name) { collection in
                    if name.hasPrefix("PS") {
                        await collection.add(pss: rsa, digestAlgorithm: digest)
                    } else {
                        await collection.add(rsa: rsa, digestAlgorithm: digest)
                    }
                }
            )
        }
        return keys
    }

    private static func single(
        _ keyID: String?,
        _ algorithm: String,
        _ add: @Sendable (JWTKeyCollection) async -> Void
    ) async -> VerificationKey {
        let collection = JWTKeyCollection()
        await add(collection)
        return VerificationKey(keyID: keyID, algorithms: [algorithm], collection: collection)
    }
}

/// The signing keys of a JWKS document, and the entries that are not.
package struct JWKSKeys: Sendable {
    /// One entry per (key, algorithm).
    package var keys: [VerificationKey] = []
    /// Entries left out, and why (logged when the set is loaded).
    package var skipped: [SkippedKey] = []
}

/// A JWKS entry that is not used, and why.
package struct SkippedKey: Sendable, Equatable, CustomStringConvertible {
    /// Its `kid`, when it has one.
    package var keyID: String?
    /// Why it is not used.
    package var reason: VerificationKey.SkipReason

    package var description: String { "\(keyID.map { "kid \($0.prefix(64)): " } ?? "")\(reason)" }
}

extension VerificationKey {
    /// Why a JWKS entry is not a key the gateway verifies with.
    package enum SkipReason: Error, Sendable, Equatable, CustomStringConvertible {
        /// An encryption key (`use` other than `sig`, or `key_ops` without `verify`).
        case notForSigning(String)
        /// A private key was published; it is not used.
        case privateKey
        /// A key type, curve or algorithm the gateway does not verify with.
        case unsupported(String)
        /// Its parameters do not form a key (bad base64url, an RSA key under 2048 bits).
        case unreadable
        /// The set holds more keys than the gateway reads.
        case tooManyKeys(Int)

        package var description: String {
            switch self {
            case .notForSigning(let why): "not a signing key (\(why))"
            case .privateKey: "a private key (d) was published; never used"
            case .unsupported(let what): "unsupported \(what)"
            case .unreadable: "its parameters do not form a supported public key (RSA keys need 2048 bits or more)"
            case .tooManyKeys(let count):
                "the set has \(count) keys; only the first \(VerificationKey.maximumJWKSKeys) are read"
            }
        }
    }
}

/// Why keys could not be loaded.
package enum KeyLoadingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A PEM file holds no supported public key.
    case unreadablePEM
    /// A JWKS document does not parse.
    case unreadableJWKS
    /// A key file cannot be read.
    case unreadableFile(String)
    /// A JWKS URL could not be fetched.
    case fetchFailed(url: String, reason: String)
    /// A JWKS URL has a scheme other than https, http or file.
    case unsupportedURL(String)

    package var description: String {
        switch self {
        case .unreadablePEM: "the PEM holds no supported public key (RSA, EC P-256/P-384/P-521, Ed25519)"
        case .unreadableJWKS: "the JWKS document does not parse (a JSON object with a keys array)"
        case .unreadableFile(let path): "the key file '\(path)' cannot be read"
        case .fetchFailed(let url, let reason): "fetching the JWKS from \(url) failed: \(reason)"
        case .unsupportedURL(let url): "the JWKS URL '\(url)' is not https://, http:// or file://"
        }
    }
}
