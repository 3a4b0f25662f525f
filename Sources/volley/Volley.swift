import ArgumentParser

/// The `volley` command: a UDP load-test agent and its tools.
struct VolleyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "volley",
        abstract: "UDP load testing with exact counters, driven over HTTP.",
        discussion: """
            Try one job right here:   volley run examples/sink.json
            Run an agent:             volley serve --listen 127.0.0.1:8080 --data-dir ./var
            Drive it:                 volley submit examples/send.json --wait
            """,
        version: "volley \(VolleyVersionText.current)",  // `volley --version`, as `volley version` prints
        subcommands: [Serve.self, Run.self, Submit.self, Status.self, Result.self, Cancel.self, Jobs.self,
                      Pair.self, Fleet.self, ReportCommand.self, Validate.self, Version.self]
    )
}

/// `volley version`: prints the release.
struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print Volley's version.",
                                                    discussion: "Example:\n  volley version")

    func run() {
        print("volley \(VolleyVersionText.current)")
    }
}
