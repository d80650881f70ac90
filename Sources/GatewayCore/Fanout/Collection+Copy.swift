extension Collection {
    /// The elements as an array; an empty collection gives the literal `[]`.
    ///
    /// Copying an empty `Deque` through `Array(_:)` writes the runtime's shared empty-array
    /// storage, which ThreadSanitizer reports as a race between threads that each copy an
    /// empty queue under their own lock. The literal never touches it.
    var copiedToArray: [Element] { isEmpty ? [] : Array(self) }
}
