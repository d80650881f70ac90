/// The subscribers of one topic, filed so that an event only meets those that can match
/// it: the see-everything (and broadcast) list, plus the lists of the event's scope keys.
struct TopicIndex: Sendable {
    private var everyone: [UInt64: Subscriber] = [:]
    private var byKey: [ScopeKey: [UInt64: Subscriber]] = [:]

    mutating func insert(_ subscriber: Subscriber, at placement: IndexPlacement) {
        switch placement {
        case .everyone:
            everyone[subscriber.id] = subscriber
        case .keys(let keys):
            for key in keys { byKey[key, default: [:]][subscriber.id] = subscriber }
        }
    }

    mutating func remove(_ subscriberID: UInt64, at placement: IndexPlacement) {
        switch placement {
        case .everyone:
            everyone[subscriberID] = nil
        case .keys(let keys):
            for key in keys {
                byKey[key]?[subscriberID] = nil
                if byKey[key]?.isEmpty == true { byKey[key] = nil }
            }
        }
    }

    /// The subscribers an event with these facts must be checked against, each once.
    func candidates(for facts: EventFacts) -> [Subscriber] {
        var lists: [[UInt64: Subscriber]] = []
        if !everyone.isEmpty { lists.append(everyone) }
        for (field, value) in facts.scopeValues {
            if let list = byKey[ScopeKey(field: field, value: value)] { lists.append(list) }
        }
        switch lists.count {
        case 0: return []
        case 1: return lists[0].values.copiedToArray
        default:
            var seen = Set<UInt64>()
            var result: [Subscriber] = []
            for list in lists {
                for (id, subscriber) in list where seen.insert(id).inserted { result.append(subscriber) }
            }
            return result
        }
    }
}
