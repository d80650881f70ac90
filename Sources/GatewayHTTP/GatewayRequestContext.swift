import Hummingbird
import Logging
import NIOCore

/// The request context of every route: Hummingbird's core context plus the channel, which
/// streams need to notice a client going away and to cut off an evicted slow reader.
package struct GatewayRequestContext: RequestContext {
    /// Hummingbird's storage.
    package var coreContext: CoreRequestContextStorage
    /// The connection the request arrived on.
    package let channel: any Channel

    package init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }
}
