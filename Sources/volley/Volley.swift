import ArgumentParser

/// The `volley` command: a UDP load-test agent and its tools.
@main
struct VolleyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "volley",
        abstract: "UDP load testing with exact counters, driven over HTTP.",
        discussion: """
            Start an agent with `volley serve`, then POST JSON job specs to it:
              volley serve --listen 127.0.0.1:8080 --data-dir ./var
              curl -s -d '{"mode":"sink","listen":"127.0.0.1:9000","duration_s":5}' http://127.0.0.1:8080/v1/jobs
            """,
        subcommands: [Serve.self, Version.self]
    )
}

/// `volley version`: prints the release.
struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print Volley's version.",
                                                    discussion: "Example: volley version")

    func run() {
        print("volley \(VolleyVersionText.current)")
    }
}
