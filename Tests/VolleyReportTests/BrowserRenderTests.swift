import Foundation
import Testing
import VolleyTestSupport
@testable import VolleyReport

/// Renders a report in headless Chromium (Debian's `chromium`, installed here when missing) and
/// checks the screenshot is not blank. The PNG goes to a temp folder, never the repository.
@Suite struct BrowserRenderTests {
    @Test func chromiumDrawsTheReport() throws {
        let chromium = try #require(Self.chromium(), "chromium could not be installed")
        let dir = AgentProcess.temporaryDirectory()
        let page = dir.appendingPathComponent("report.html")
        let png = dir.appendingPathComponent("report.png")
        try Data(Report.html(for: sampleResult()).utf8).write(to: page)
        let run = try runCommand(chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                                            "--window-size=900,1600", "--screenshot=\(png.path)", page.absoluteString])
        #expect(FileManager.default.fileExists(atPath: png.path), "\(run.output)")
        let check = try runCommand(URL(fileURLWithPath: "/usr/bin/python3"), ["-c", Self.pixelCheck, png.path])
        #expect(check.status == 0, "\(check.output)")
        let numbers = check.output.split(whereSeparator: \.isWhitespace).compactMap { Double($0) }
        try #require(numbers.count == 2, "\(check.output)")
        #expect(numbers[0] > 20, "distinct colours: \(numbers[0])")     // text, lines, axes: many colours
        #expect(numbers[1] > 0.01, "share of non-white pixels: \(numbers[1])")
    }

    /// Decodes the PNG with the standard library only and reports (distinct colours, non-white share).
    static let pixelCheck = """
        import struct, sys, zlib
        data = open(sys.argv[1], 'rb').read()
        assert data[:8] == b'\\x89PNG\\r\\n\\x1a\\n'
        pos, idat, width, height, ctype = 8, b'', 0, 0, 0
        while pos < len(data):
            length, kind = struct.unpack('>I4s', data[pos:pos + 8])
            chunk = data[pos + 8:pos + 8 + length]
            if kind == b'IHDR': width, height, depth, ctype = struct.unpack('>IIBB', chunk[:10])
            if kind == b'IDAT': idat += chunk
            pos += 12 + length
        raw = zlib.decompress(idat)
        bpp = {2: 3, 6: 4}[ctype]
        stride = width * bpp
        prev, colours, dark = bytearray(stride), set(), 0
        for y in range(height):
            f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
                if f == 1: line[i] = (line[i] + a) & 255
                elif f == 2: line[i] = (line[i] + b) & 255
                elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
                elif f == 4:
                    p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            prev = line
            for x in range(0, stride, bpp * 4):
                px = bytes(line[x:x + 3]); colours.add(px)
                if px != b'\\xff\\xff\\xff': dark += 1
        print(len(colours), dark / (height * width / 4))
        """

    static func chromium() -> URL? {
        for path in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] where FileManager.default.isExecutableFile(atPath: path) {
            return URL(fileURLWithPath: path)
        }
        let install = try? runCommand(URL(fileURLWithPath: "/usr/bin/env"),
                                      ["bash", "-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium"])
        guard install?.status == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium") else { return nil }
        return URL(fileURLWithPath: "/usr/bin/chromium")
    }
}
