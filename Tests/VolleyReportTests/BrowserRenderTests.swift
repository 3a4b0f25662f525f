import Foundation
import Testing
import VolleyTestSupport
@testable import VolleyReport

/// Renders a report in headless Chromium and checks the screenshot is not blank, at a desktop
/// and a phone width.
@Suite struct BrowserRenderTests {
    @Test(arguments: [(1280, 3200), (390, 4000)])
    func chromiumDrawsTheReport(width: Int, height: Int) throws {
        let chromium = try #require(Chromium.find(), "chromium could not be installed")
        let dir = AgentProcess.temporaryDirectory()
        let page = dir.appendingPathComponent("report.html")
        let png = dir.appendingPathComponent("report.png")
        try Data(Report.html(for: sampleResult()).utf8).write(to: page)
        let output = try Chromium.screenshot(chromium, page.absoluteString, width: width, height: height, to: png)
        #expect(FileManager.default.fileExists(atPath: png.path), "\(output)")
        let pixels = try #require(try Chromium.pixels(png))
        #expect(pixels.colours > 20, "distinct colours: \(pixels.colours)")     // text, lines, axes: many colours
        #expect(pixels.inked > 0.01, "share of non-white pixels: \(pixels.inked)")
    }
}
