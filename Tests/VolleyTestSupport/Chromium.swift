import Foundation

/// Headless Chromium for tests that look at pages as a browser draws them: Debian's `chromium`,
/// installed here when missing. Screenshots go to temp folders, never the repository.
public enum Chromium {
    /// The browser, or nil when it is absent and cannot be installed.
    public static func find() -> URL? {
        for path in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] where FileManager.default.isExecutableFile(atPath: path) {
            return URL(fileURLWithPath: path)
        }
        let install = try? runCommand(URL(fileURLWithPath: "/usr/bin/env"),
                                      ["bash", "-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium"])
        guard install?.status == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium") else { return nil }
        return URL(fileURLWithPath: "/usr/bin/chromium")
    }

    static let flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]

    /// Screenshots `page` (a file: or http: URL) at `width`×`height` into `png`.
    @discardableResult
    public static func screenshot(_ chromium: URL, _ page: String, width: Int, height: Int, to png: URL) throws -> String {
        try runCommand(chromium, flags + ["--window-size=\(width),\(height)", "--screenshot=\(png.path)", page]).output
    }

    /// The DOM after the page loaded, as Chromium serialises it (plus whatever it logs).
    public static func dumpDOM(_ chromium: URL, _ page: String) throws -> String {
        try runCommand(chromium, flags + ["--dump-dom", page]).output
    }

    /// (distinct colours, share of non-white pixels) of a PNG, decoded by `pixelCheck`.
    public static func pixels(_ png: URL) throws -> (colours: Double, inked: Double)? {
        let check = try runCommand(URL(fileURLWithPath: "/usr/bin/python3"), ["-c", pixelCheck, png.path])
        let numbers = check.output.split(whereSeparator: \.isWhitespace).compactMap { Double($0) }
        guard check.status == 0, numbers.count == 2 else { return nil }
        return (numbers[0], numbers[1])
    }

    /// Decodes the PNG with the standard library only and reports (distinct colours, non-white share).
    public static let pixelCheck = """
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

}
