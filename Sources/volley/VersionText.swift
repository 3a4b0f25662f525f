import VolleyModel

enum VolleyVersionText {
    static var current: String { Volley.version }
}
