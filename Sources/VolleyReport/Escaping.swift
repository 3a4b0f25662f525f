/// Text made safe for HTML and SVG: everything that comes from a spec (tags, names, addresses)
/// goes through here, so a job's tags can never become markup or script.
enum Escape {
    static func html(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }
}
