import Foundation

#if VOLLEY_FUZZING
/// libFuzzer's driver, from `libclang_rt.fuzzer_no_main` (`make fuzz` links it).
@_extern(c, "LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<CInt>,
                     _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                     _ body: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

/// `make fuzz` builds with `-D VOLLEY_FUZZING`. SwiftPM renames every executable's `main` (it links
/// with `--defsym main=volley_fuzz_main`), so libFuzzer's own `main` cannot be used: this one
/// hands the command line to libFuzzer's driver instead, with the same options and exit codes.
@main
enum FuzzerMain {
    static func main() {
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(runFuzzerDriver(&argc, &argv) { data, size in fuzz(data, size) })
    }
}
#else
/// A plain `swift build` has no libFuzzer: this runs the selected target once over each file named
/// on the command line, to replay a crash or a corpus without the sanitizer.
@main
enum ReplayMain {
    static func main() {
        let files = CommandLine.arguments.dropFirst()
        guard !files.isEmpty else {
            let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")
            print("usage: VOLLEY_FUZZ_TARGET=\(names) volley-fuzz FILE... (make fuzz builds the fuzzer)")
            exit(2)
        }
        for path in files {
            guard let data = FileManager.default.contents(atPath: path) else {
                print("volley-fuzz: cannot read \(path)")
                exit(1)
            }
            let bytes = [UInt8](data) + [0]  // never an empty buffer, so there is always a base address
            _ = bytes.withUnsafeBufferPointer { fuzz($0.baseAddress!, data.count) }
        }
        print("volley-fuzz: \(files.count) input(s) of target \(FuzzTarget.selected.rawValue) ran without a crash")
    }
}
#endif
