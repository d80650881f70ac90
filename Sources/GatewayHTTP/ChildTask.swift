/// Runs `body` in a child task and returns what it returns.
///
/// A stream's request is handled on its connection's task, and that task lives as long
/// as the stream, for hours. Swift's task allocator keeps every slab the task's deepest
/// call chain ever needed until the task ends, and the deepest chain is the request phase
/// (routing, token verification in jwt-kit): run there, it stays allocated for every idle
/// stream. A child task's slabs are freed as soon as it finishes.
func inChildTask<Result: Sendable>(
    _ body: @escaping @Sendable () async throws -> Result
) async throws -> Result {
    try await withThrowingTaskGroup(of: Result.self) { group in
        group.addTask(operation: body)
        // The group holds exactly one task, so `next()` returns its result or rethrows its error.
        guard let result = try await group.next() else { throw CancellationError() }
        return result
    }
}
