import Foundation

extension JSONValue {
    /// Parses JSON text.
    ///
    /// Through `JSONSerialization`, not `JSONDecoder`: a `Decodable` enum can only find a
    /// value's kind by trying each kind in turn and catching the mismatch, which built a
    /// `DecodingError` for almost every value and made decoding the gateway's largest
    /// per-event cost (about 3× slower on a typical CloudEvent, measured on this machine).
    package init(parsing bytes: some Collection<UInt8>) throws {
        let object = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
        self.init(foundationObject: object)
    }

    private init(foundationObject object: Any) {
        switch object {
        case let text as String:
            self = .string(text)
        case let members as [String: Any]:
            self = .object(members.mapValues(JSONValue.init(foundationObject:)))
        case let items as [Any]:
            self = .array(items.map(JSONValue.init(foundationObject:)))
        case let number as NSNumber:
            self = Self.number(number)
        default:
            // `NSNull`, the only other thing JSONSerialization produces.
            self = .null
        }
    }

    /// JSONSerialization reports `true`/`false` as a boolean `NSNumber` (type code `c`),
    /// integers with an integer code and everything else as a double.
    private static func number(_ number: NSNumber) -> JSONValue {
        switch UInt8(bitPattern: number.objCType.pointee) {
        case UInt8(ascii: "c"), UInt8(ascii: "B"):
            return .bool(number.boolValue)
        case UInt8(ascii: "d"), UInt8(ascii: "f"):
            return .number(number.doubleValue)
        default:
            if let integer = Int64(exactly: number) { return .integer(integer) }
            return .number(number.doubleValue)
        }
    }
}
