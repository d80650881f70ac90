import Foundation

/// Where a child process's standard output and error go: a temporary file, removed when
/// this is released.
///
/// A file rather than a pipe: no reader can block a cooperative thread, and no dispatch
/// source is involved. corelibs-foundation's `readabilityHandler` faulted in libdispatch
/// (`_dispatch_event_loop_drain`, a ThreadSanitizer SEGV) in full test runs, right after
/// a process ended.
final class ProcessOutputFile: Sendable {
    let url: URL
    /// The write end, for `Process.standardOutput` and `standardError`.
    let handle: FileHandle

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("sse-gateway-test-\(UUID().uuidString).log")
        guard FileManager.default.createFile(atPath: url.path, contents: nil),
            let handle = FileHandle(forWritingAtPath: url.path)
        else { throw TestFailure("cannot create \(url.path)") }
        self.handle = handle
    }

    /// Everything written so far.
    var text: String {
        String(decoding: (try? Data(contentsOf: url)) ?? Data(), as: UTF8.self)
    }

    deinit {
        try? handle.close()
        try? FileManager.default.removeItem(at: url)
    }
}
