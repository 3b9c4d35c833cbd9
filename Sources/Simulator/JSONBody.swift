import Events

/// A JSON document with ordered object members, rendered the way each service lays it out.
indirect enum JSONBody: Sendable, Equatable {
    case null
    case string(String)
    case array([JSONBody])
    case object([(String, JSONBody)])

    /// How a document is laid out.
    enum Layout: Sendable {
        /// One line, `{"key": "value", "other": null}`, as the real service serves notices and events.
        case compact
        /// Two-space indentation and `" : "`, as the real service serves the identity document.
        case realPretty
        /// Tab indentation and `": "`, as Go's `json.MarshalIndent(v, "", "\t")` in AEMM.
        case tabs
    }

    static func == (lhs: JSONBody, rhs: JSONBody) -> Bool {
        lhs.rendered(.compact) == rhs.rendered(.compact)
    }

    /// The text in `layout`, without a trailing newline.
    func rendered(_ layout: Layout) -> String {
        var out = ""
        write(into: &out, layout: layout, depth: 0)
        return out
    }

    private func write(into out: inout String, layout: Layout, depth: Int) {
        switch self {
        case .null:
            out += "null"
        case .string(let text):
            out += JSONBody.quoted(text)
        case .array(let items):
            guard !items.isEmpty else {
                out += "[]"
                return
            }
            out += "["
            for (index, item) in items.enumerated() {
                out += index == 0 ? opening(layout, depth + 1) : separator(layout, depth + 1)
                item.write(into: &out, layout: layout, depth: depth + 1)
            }
            out += closing(layout, depth) + "]"
        case .object(let members):
            guard !members.isEmpty else {
                out += "{}"
                return
            }
            out += "{"
            for (index, member) in members.enumerated() {
                out += index == 0 ? opening(layout, depth + 1) : separator(layout, depth + 1)
                out += JSONBody.quoted(member.0) + (layout == .realPretty ? " : " : ": ")
                member.1.write(into: &out, layout: layout, depth: depth + 1)
            }
            out += closing(layout, depth) + "}"
        }
    }

    private func indent(_ layout: Layout, _ depth: Int) -> String {
        switch layout {
        case .compact: ""
        case .realPretty: String(repeating: "  ", count: depth)
        case .tabs: String(repeating: "\t", count: depth)
        }
    }

    private func opening(_ layout: Layout, _ depth: Int) -> String {
        layout == .compact ? "" : "\n" + indent(layout, depth)
    }

    private func separator(_ layout: Layout, _ depth: Int) -> String {
        layout == .compact ? ", " : ",\n" + indent(layout, depth)
    }

    private func closing(_ layout: Layout, _ depth: Int) -> String {
        layout == .compact ? "" : "\n" + indent(layout, depth)
    }

    /// `text` as a JSON string literal (non-ASCII characters kept as they are), escaped as every payload is.
    static func quoted(_ text: String) -> String {
        JSONValue.string(text).serialized()
    }
}
