import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// Gives the memory of ended streams back to the system once many of them are gone.
///
/// glibc's allocator keeps freed memory for reuse and returns it only from the top of its
/// heaps, and a stream's objects are spread all over them: after 10,000 clients left, the
/// process kept nearly all they had cost. `malloc_trim` returns every free page. It walks
/// every heap, so it runs only once a large drop in open streams has come to rest
/// (`MemoryReturnPolicy`), checked every `interval`, on this service's task and never on an
/// event loop.
package struct MemoryReturnService: Service {
    private let hub: Hub
    private let interval: Duration

    /// Creates the service.
    package init(hub: Hub, interval: Duration = .seconds(2)) {
        self.hub = hub
        self.interval = interval
    }

    package func run() async throws {
        let hub = self.hub
        let interval = self.interval
        await cancelWhenGracefulShutdown {
            var policy = MemoryReturnPolicy()
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard !Task.isCancelled else { return }
                if policy.shouldReturnMemory(openStreams: hub.subscriberCount) { Self.returnFreeMemory() }
            }
        }
    }

    /// Returns free heap pages to the system (glibc); nothing elsewhere.
    package static func returnFreeMemory() {
        _ = mallocTrim?(0)
    }

    /// glibc's `malloc_trim`, looked up once: `<malloc.h>` is not part of Swift's Glibc module.
    private static let mallocTrim: (@convention(c) (Int) -> Int32)? = {
        #if canImport(Glibc)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
        #else
        return nil
        #endif
    }()
}

/// When freed memory is worth returning: the open streams fell by at least a quarter of
/// their peak since the last return, and by at least `minimumDrop` streams (below that the
/// memory is small and the walk over every heap is not worth it), and the fall has stopped:
/// a return in the middle of 10,000 clients leaving would miss what the rest free.
package struct MemoryReturnPolicy: Sendable {
    /// Most streams open since memory was last returned.
    package private(set) var peak = 0
    /// The smallest drop that is worth a return.
    package let minimumDrop: Int
    private var previous = 0

    /// A policy; `minimumDrop` streams of about 4 KiB each are a few MiB.
    package init(minimumDrop: Int = 500) {
        self.minimumDrop = minimumDrop
    }

    /// Records `openStreams` now (called at a steady interval); `true` when memory should be returned.
    package mutating func shouldReturnMemory(openStreams: Int) -> Bool {
        defer { previous = openStreams }
        peak = max(peak, openStreams)
        let drop = peak - openStreams
        guard drop >= minimumDrop, drop * 4 >= peak, openStreams >= previous else { return false }
        peak = openStreams
        return true
    }
}
