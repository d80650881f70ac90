import NIOCore
import NIOHTTP1

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

    /// The head and body for event `sequence` sent at `sentAt` (monotonic ns) for `user`.
    func render(
        sequence: Int,
        sentAt: UInt64,
        user: String,
        allocator: ByteBufferAllocator
    ) -> (HTTPRequestHead, ByteBuffer) {
        let values: (String) -> String? = { name in
            switch name {
            case "seq": String(sequence)
            case "t": String(sentAt)
            case "user": user
            case "topic": topic
            case "run": runID
            default: nil
            }
        }
        let text = body.render(values)
        var buffer = allocator.buffer(capacity: text.utf8.count)
        buffer.writeString(text)
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: target.hostHeader)
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(buffer.readableBytes))
        for (name, value) in extraHeaders { headers.add(name: name, value: value) }
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: path.render(values), headers: headers)
        return (head, buffer)
    }
}
