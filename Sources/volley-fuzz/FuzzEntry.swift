import Foundation
import VolleyEngine

/// What `VOLLEY_FUZZ_TARGET` selects: one parser of data that comes from outside the process.
enum FuzzTarget: String, CaseIterable {
    /// Request bodies: `JobSpec.decode(json:)`, then encode → decode must give the same spec.
    case spec
    /// HDR histograms from result files and other agents: `HDREncoding.decode`, then re-encode.
    case hdr
    /// Received datagrams: the engine's stamp parser (and, later, its per-sender accounting).
    case stamp
    /// STAMP (RFC 8762/8972) test packets: both sides' parsers, the reflector's reply builder and
    /// TLV walk, the timestamp decoders and the sender's reply bookkeeping (`StampFuzzing`).
    case stampRFC = "stamp-rfc"
    /// Stored jobs and results (`Job`, `JobResult`), as the agent and a fleet read them back.
    case stored
    /// Short texts from specs and stored jobs: times, endpoints, CIDRs and job ids, which must print
    /// as text that parses back to the same value.
    case text

    /// The target named by `VOLLEY_FUZZ_TARGET`; exits with a usage message when it names none.
    static let selected: FuzzTarget = {
        let name = ProcessInfo.processInfo.environment["VOLLEY_FUZZ_TARGET"] ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            let names = allCases.map(\.rawValue).joined(separator: "|")
            FileHandle.standardError.write(Data("volley-fuzz: set VOLLEY_FUZZ_TARGET=\(names)\n".utf8))
            exit(2)
        }
        return target
    }()

    func run(_ bytes: UnsafeRawBufferPointer) {
        switch self {
        case .spec: SpecFuzzing.run(Data(bytes))
        case .hdr: HDRFuzzing.run(Data(bytes))
        case .stamp: ReceivePathFuzzing.run(bytes)
        case .stampRFC: StampFuzzing.run(bytes)
        case .stored: StoredFuzzing.run(Data(bytes))
        case .text: TextFuzzing.run(Data(bytes))
        }
    }
}

/// libFuzzer's entry point: one input per call. A property that fails calls `fatalError`, which
/// libFuzzer reports as a crash and saves the input for.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzTarget.selected.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
