/// The result of `operation`, or `nil` when `timeout` passes first; the loser is cancelled.
///
/// `operation` must return promptly once cancelled. The sleep swallows its own
/// cancellation, so a finished operation never turns into a `CancellationError`.
package func withTimeout<Result: Sendable>(
    _ timeout: Duration,
    _ operation: @escaping @Sendable () async -> Result
) async -> Result? {
    await withTaskGroup(of: Result?.self) { group in
        group.addTask { await operation() }
        group.addTask {
            try? await Task.sleep(for: timeout)
            return nil
        }
        let first = await group.next() ?? nil
        group.cancelAll()
        return first
    }
}
