import Foundation
import JWTKit

/// One key that may verify tokens, and the algorithms it may verify them with.
///
/// Each key sits in a key collection of its own, as the default key, so jwt-kit can never
/// fall back from an unknown `kid` to some other key.
package struct VerificationKey: Sendable {
    /// The `kid`, when the key has one.
    package let keyID: String?
    /// Algorithms this key verifies (`alg` header values).
    package let algorithms: Set<String>
    /// The jwt-kit collection holding just this key.
    package let collection: JWTKeyCollection

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

    /// Keys from one PEM public key (RSA: RS256/384/512 and PS256; EC P-256 or P-384; Ed25519).
    package static func pem(_ pem: String, keyID: String?) async throws(KeyLoadingError) -> [VerificationKey] {
        let kid = keyID.map { JWKIdentifier(string: $0) }
        if let rsa = try? Insecure.RSA.PublicKey(pem: pem) {
            var keys: [VerificationKey] = []
            for (name, digest) in [("RS256", DigestAlgorithm.sha256), ("RS384", .sha384), ("RS512", .sha512)] {
                let collection = JWTKeyCollection()
                await collection.add(rsa: rsa, digestAlgorithm: digest, kid: kid)
                keys.append(VerificationKey(keyID: keyID, algorithms: [name], collection: collection))
            }
            let pss = JWTKeyCollection()
            await pss.add(pss: rsa, digestAlgorithm: .sha256, kid: kid)
            keys.append(VerificationKey(keyID: keyID, algorithms: ["PS256"], collection: pss))
            return keys
        }
        if let p256 = try? ES256PublicKey(pem: pem) {
            let collection = JWTKeyCollection()
            await collection.add(ecdsa: p256, kid: kid)
            return [VerificationKey(keyID: keyID, algorithms: ["ES256"], collection: collection)]
        }
        if let p384 = try? ES384PublicKey(pem: pem) {
            let collection = JWTKeyCollection()
            await collection.add(ecdsa: p384, kid: kid)
            return [VerificationKey(keyID: keyID, algorithms: ["ES384"], collection: collection)]
        }
        if let ed = try? EdDSA.PublicKey(pem: pem) {
            let collection = JWTKeyCollection()
            await collection.add(eddsa: ed, kid: kid)
            return [VerificationKey(keyID: keyID, algorithms: ["EdDSA"], collection: collection)]
        }
        throw .unreadablePEM
    }

    /// Keys from a JWKS document. Keys without `kid` or of unsupported types are skipped.
    package static func jwks(_ json: [UInt8]) async throws(KeyLoadingError) -> [VerificationKey] {
        let set: JWKS
        do {
            set = try JSONDecoder().decode(JWKS.self, from: Data(json))
        } catch {
            throw .unreadableJWKS
        }
        var keys: [VerificationKey] = []
        for jwk in set.keys {
            guard let kid = jwk.keyIdentifier, jwk.privateExponent == nil else { continue }
            let algorithms: Set<String>
            if let algorithm = jwk.algorithm {
                algorithms = [algorithm.rawValue]
            } else {
                switch jwk.keyType.rawValue {
                case "RSA": algorithms = ["RS256", "RS384", "RS512", "PS256"]
                case "EC": algorithms = jwk.curve?.rawValue == "P-384" ? ["ES384"] : ["ES256"]
                case "OKP": algorithms = ["EdDSA"]
                default: continue
                }
            }
            let collection = JWTKeyCollection()
            do {
                try await collection.add(jwk: jwk, isDefault: true)
            } catch {
                continue
            }
            keys.append(VerificationKey(keyID: kid.string, algorithms: algorithms, collection: collection))
        }
        return keys
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
        case .unreadablePEM: "the PEM holds no supported public key (RSA, EC P-256/P-384, Ed25519)"
        case .unreadableJWKS: "the JWKS document does not parse"
        case .unreadableFile(let path): "the key file '\(path)' cannot be read"
        case .fetchFailed(let url, let reason): "fetching the JWKS from \(url) failed: \(reason)"
        case .unsupportedURL(let url): "the JWKS URL '\(url)' is not https://, http:// or file://"
        }
    }
}
