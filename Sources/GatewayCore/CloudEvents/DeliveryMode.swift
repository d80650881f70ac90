/// How a delivery carries its CloudEvent (the CloudEvents HTTP binding's modes, and Dapr's
/// envelopes, which are structured JSON).
package enum DeliveryMode: Sendable, Equatable {
    /// The body is JSON: a CloudEvent (`application/cloudevents+json`, or Dapr's envelope as
    /// `application/json`), or a Dapr bulk body.
    case structured
    /// The body is a JSON array of CloudEvents (`application/cloudevents-batch+json`).
    case batch
    /// The attributes are `ce-*` headers and the body is the data (Knative, CloudEvents SDKs).
    case binary(CloudEventHeaders)

    /// The mode of a request with `contentType` and these `ce-*` headers. A structured
    /// content type wins over stray `ce-*` headers: daprd copies publisher metadata into
    /// headers, so a header alone does not make a Dapr delivery binary.
    package init(contentType: String?, headers: CloudEventHeaders) {
        switch MediaType(contentType) {
        case .cloudEvents: self = .structured
        case .cloudEventsBatch: self = .batch
        default: self = headers.specversion == nil ? .structured : .binary(headers)
        }
    }
}

/// The media types ingest tells apart, from a `Content-Type` value.
package enum MediaType: Sendable, Equatable {
    /// `application/cloudevents+json` (or any `application/cloudevents…` but the batch).
    case cloudEvents
    /// `application/cloudevents-batch+json`.
    case cloudEventsBatch
    /// `application/json`, `text/json`, or any `…+json`.
    case json
    /// `text/…`.
    case text
    /// Anything else.
    case other
    /// No `Content-Type`.
    case none

    /// Classifies a header value; parameters (`; charset=utf-8`) and case do not matter.
    package init(_ value: String?) {
        guard let value else {
            self = .none
            return
        }
        // Compared byte by byte, without lowercasing into a new string (one per delivery).
        var type = Substring(value).utf8
        if let semicolon = type.firstIndex(of: UInt8(ascii: ";")) { type = type[..<semicolon] }
        while let first = type.first, first == 0x20 || first == 0x09 { type = type.dropFirst() }
        while let last = type.last, last == 0x20 || last == 0x09 { type = type.dropLast() }
        if type.isEmpty {
            self = .none
        } else if type.hasPrefix(lowercase: "application/cloudevents-batch") {
            self = .cloudEventsBatch
        } else if type.hasPrefix(lowercase: "application/cloudevents") {
            self = .cloudEvents
        } else if type.equals(lowercase: "application/json") || type.equals(lowercase: "text/json")
            || type.hasSuffix(lowercase: "+json")
        {
            self = .json
        } else if type.hasPrefix(lowercase: "text/") {
            self = .text
        } else {
            self = .other
        }
    }
}

extension Substring.UTF8View {
    /// Whether the bytes start with `prefix` (lowercase ASCII), ignoring ASCII case.
    fileprivate func hasPrefix(lowercase prefix: StaticString) -> Bool {
        count >= prefix.utf8CodeUnitCount && self.prefix(prefix.utf8CodeUnitCount).equals(lowercase: prefix)
    }

    /// Whether the bytes end with `suffix` (lowercase ASCII), ignoring ASCII case.
    fileprivate func hasSuffix(lowercase suffix: StaticString) -> Bool {
        count >= suffix.utf8CodeUnitCount && self.suffix(suffix.utf8CodeUnitCount).equals(lowercase: suffix)
    }

    /// Whether the bytes are `text` (lowercase ASCII), ignoring ASCII case.
    fileprivate func equals(lowercase text: StaticString) -> Bool {
        guard count == text.utf8CodeUnitCount else { return false }
        var index = 0
        for byte in self {
            let lowered = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
            guard lowered == text.utf8Start[index] else { return false }
            index += 1
        }
        return true
    }
}
