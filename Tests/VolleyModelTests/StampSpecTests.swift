import Foundation
import Testing
@testable import VolleyModel

@Suite struct StampSpecTests {
    @Test func aStampTargetWithoutAPortGetsPort862() throws {
        for (text, address) in [("127.0.0.1", "127.0.0.1"), ("localhost", "127.0.0.1"), ("[::1]", "::1"), ("::1", "::1")] {
            let spec = try decode(#"{"mode":"echo","protocol":"stamp","target":"\#(text)"}"#)
            #expect(spec.target == Endpoint(address: IPAddress(address)!, port: 862))
        }
        let reflect = try decode(#"{"mode":"reflect","protocol":"stamp","listen":"0.0.0.0","stateful":true}"#)
        #expect(reflect.listen?.port == 862 && reflect.stateful)
        // Volley's own protocol has no port of its own: still an error naming the field.
        #expect(failure(#"{"mode":"echo","target":"127.0.0.1"}"#)?.field == "target")
        #expect(try decode(#"{"mode":"echo","protocol":"stamp","target":"127.0.0.1:9000"}"#).target?.port == 9000)
    }

    @Test func stampSpecsRoundTripAndVolleySpecsEncodeAsBefore() throws {
        let spec = try decode(#"{"mode":"echo","protocol":"stamp","target":"127.0.0.1","ssid":77,"timestamp_format":"ptp","stateful":true,"payload_bytes":44}"#)
        let json = String(decoding: try JSONEncoder().encode(spec), as: UTF8.self)
        #expect(json.contains(#""protocol":"stamp""#) && json.contains(#""ssid":77"#) && json.contains(#""timestamp_format":"ptp""#))
        #expect(try JobSpec.decode(json: Data(json.utf8)) == spec)
        let plain = String(decoding: try JSONEncoder().encode(try decode(#"{"mode":"echo","target":"127.0.0.1:9"}"#)), as: UTF8.self)
        #expect(!plain.contains("protocol") && !plain.contains("stateful") && !plain.contains("timestamp_format"))
    }

    @Test(arguments: [
        (#"{"mode":"echo","target":"127.0.0.1:9","stateful":true}"#, "stateful"),
        (#"{"mode":"echo","target":"127.0.0.1:9","ssid":3}"#, "ssid"),
        (#"{"mode":"reflect","listen":"127.0.0.1:9","timestamp_format":"ptp"}"#, "timestamp_format"),
        (#"{"mode":"echo","protocol":"stamp","target":"127.0.0.1","ssid":0}"#, "ssid"),
        (#"{"mode":"echo","protocol":"stamp","target":"127.0.0.1","ssid":65536}"#, "ssid"),
        (#"{"mode":"echo","protocol":"stamp","target":"127.0.0.1","payload_bytes":40}"#, "payload_bytes"),
        (#"{"mode":"echo","protocol":"stamp","target":"127.0.0.1","payload_bytes":46}"#, "payload_bytes"),
        (#"{"mode":"echo","protocol":"stamp","target":"127.0.0.1","sizes":[{"bytes":44,"weight":1},{"bytes":45,"weight":1}]}"#, "sizes[1].bytes"),
        (#"{"mode":"reflect","protocol":"stamp","listen":"127.0.0.1","gro":true}"#, "gro"),
        (#"{"mode":"send","protocol":"stamp","target":"127.0.0.1:9"}"#, "protocol"),
        (#"{"mode":"sink","listen":"127.0.0.1:9","ssid":3}"#, "ssid"),
        (#"{"mode":"echo","protocol":"twamp","target":"127.0.0.1:9"}"#, "protocol"),
        (#"{"mode":"echo","protocol":"stamp","target":"127.0.0.1","timestamp_format":"gps"}"#, "timestamp_format"),
        (#"{"mode":"reflect","protocol":"stamp","listen":"127.0.0.1","ssid":5}"#, "ssid"),
    ])
    func badStampFieldsAreNamed(json: String, field: String) {
        let error = failure(json)
        #expect(error?.field == field, "\(String(describing: error))")
    }

    @Test func sizesOf44AndFrom48AreAccepted() throws {
        let spec = try decode(#"{"mode":"echo","protocol":"stamp","target":"127.0.0.1","sizes":[{"bytes":44,"weight":1},{"bytes":48,"weight":1},{"bytes":1400,"weight":1}]}"#)
        #expect(spec.sizes?.count == 3)
    }
}
