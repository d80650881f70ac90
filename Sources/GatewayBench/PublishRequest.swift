import Foundation
import NIOCore
import NIOHTTP1

/// The answer to one publish request, read part by part: enough of the body to see a
/// Dapr status; the rest is not needed.
struct PublishAnswer {
    private var status = 0
    private var start = ByteBuffer()

    /// Reads one part; at the end, the status and whether it acknowledged the event (a
    /// 2xx that is not a Dapr `RETRY` or `DROP`).
    mutating func read(_ part: HTTPClientResponsePart) -> (status: Int, acknowledged: Bool)? {
        switch part {
        case .head(let head):
            status = Int(head.status.code)
            start.clear()
            return nil
        case .body(var buffer):
            if start.readableBytes < 256 { start.writeBuffer(&buffer) }
            return nil
        case .end:
            let text = start.getString(at: start.readerIndex, length: start.readableBytes) ?? ""
            let acknowledged = (200..<300).contains(status) && !text.contains("RETRY") && !text.contains("DROP")
            return (status, acknowledged)
        }
    }
}

extension BenchConfiguration {
    /// The publish request for `url` with this run's body, content type, headers, topic and run id.
    package func publishRequest(url: String) throws -> PublishRequest {
        try PublishRequest(
            url: url,
            body: publishBody,
            contentType: publishContentType,
            headers: publishHeaders,
            topic: topic,
            runID: runID
        )
    }
}

/// Renders one publish request per event from the URL and body templates.
package struct PublishRequest: Sendable {
    private let target: TargetURL
    private let path: Template
    private let body: Template
    private let contentType: String
    private let extraHeaders: [(String, String)]
    private let topic: String
    private let runID: String

    /// A renderer for `url` (a template; checked to be loopback) and `body`.
    package init(
        url: String,
        body: String,
        contentType: String,
        headers: [(String, String)],
        topic: String,
        runID: String
    ) throws {
        // Check the URL with its placeholders filled with harmless values.
        let sample = Template(url).render { name in name == "topic" ? topic : "0" }
        self.target = try TargetURL(sample)
        let pathStart = url.range(of: "://").map { url[$0.upperBound...] }.flatMap { rest in
            rest.firstIndex(of: "/").map { String(rest[$0...]) }
        }
        self.path = Template(pathStart ?? "/")
        self.body = Template(body)
        self.contentType = contentType
        self.extraHeaders = headers
        self.topic = topic
        self.runID = runID
    }

    /// Host and port to connect to.
    package var host: String { target.host }
    /// See `host`.
    package var port: Int { target.port }

    /// A Dapr bulk delivery of the events `sequences` sent at `sentAt`, event `i` for
    /// `users[i]`, shaped exactly as daprd posts one (`application/json`; each entry's
    /// `event` is the body template rendered for that event).
    func renderBulk(
        sequences: Range<Int>,
        sentAt: UInt64,
        users: [String],
        allocator: ByteBufferAllocator
    ) -> (HTTPRequestHead, ByteBuffer) {
        var text = #"{"id":""# + runID + "-" + String(sequences.lowerBound) + #"","pubsubname":"pubsub","topic":""#
        text += topic + #"","type":"com.dapr.event.sent.bulk","metadata":{},"entries":["#
        for (entry, sequence) in sequences.enumerated() {
            if entry > 0 { text += "," }
            let user = users.isEmpty ? "" : users[entry % users.count]
            text += #"{"entryId":""# + String(entry) + #"","event":"#
            text += body.render(values(sequence: sequence, sentAt: sentAt, user: user))
            text += #","contentType":"application/cloudevents+json","metadata":{}}"#
        }
        text += "]}"
        return head(
            uri: path.render(values(sequence: sequences.lowerBound, sentAt: sentAt, user: users.first ?? "")),
            contentType: "application/json",
            body: text,
            allocator: allocator
        )
    }

    /// The head and body for event `sequence` sent at `sentAt` (monotonic ns) for `user`.
    func render(
        sequence: Int,
        sentAt: UInt64,
        user: String,
        allocator: ByteBufferAllocator
    ) -> (HTTPRequestHead, ByteBuffer) {
        let text = body(sequence: sequence, sentAt: sentAt, user: user)
        var buffer = allocator.buffer(capacity: text.utf8.count)
        buffer.writeString(text)
        return (head(sequence: sequence, user: user, contentLength: buffer.readableBytes), buffer)
    }

    /// The body of event `sequence`; `{time}` is the wall-clock time now (RFC 3339, as
    /// daprd stamps a CloudEvent).
    func body(sequence: Int, sentAt: UInt64, user: String) -> String {
        body.render(values(sequence: sequence, sentAt: sentAt, user: user))
    }

    /// The request head for event `sequence` with a body of `contentLength` bytes.
    func head(sequence: Int, user: String, contentLength: Int) -> HTTPRequestHead {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: target.hostHeader)
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(contentLength))
        for (name, value) in extraHeaders { headers.add(name: name, value: value) }
        let uri = path.render(values(sequence: sequence, sentAt: 0, user: user))
        return HTTPRequestHead(version: .http1_1, method: .POST, uri: uri, headers: headers)
    }

    private func values(sequence: Int, sentAt: UInt64, user: String) -> (String) -> String? {
        { name in
            switch name {
            case "seq": String(sequence)
            case "t": String(sentAt)
            case "user": user
            case "topic": topic
            case "run": runID
            case "time": Date().formatted(.iso8601)
            default: nil
            }
        }
    }

    private func head(
        uri: String,
        contentType: String,
        body text: String,
        allocator: ByteBufferAllocator
    ) -> (HTTPRequestHead, ByteBuffer) {
        var buffer = allocator.buffer(capacity: text.utf8.count)
        buffer.writeString(text)
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: target.hostHeader)
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(buffer.readableBytes))
        for (name, value) in extraHeaders { headers.add(name: name, value: value) }
        return (HTTPRequestHead(version: .http1_1, method: .POST, uri: uri, headers: headers), buffer)
    }
}
