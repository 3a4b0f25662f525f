# Shared by the example scripts: the agent's URL and token, and a curl that fails loudly.
# VOLLEY_AGENT (default http://127.0.0.1:8080) and VOLLEY_TOKEN (optional) choose the agent.
VOLLEY_AGENT=${VOLLEY_AGENT:-http://127.0.0.1:8080}
VOLLEY_AGENT=${VOLLEY_AGENT%/}

# api METHOD PATH [JSON-BODY] — prints the response body; exits non-zero (with the agent's message)
# on any HTTP error or when the agent cannot be reached.
api() {
    local method=$1 path=$2 body=${3-}
    local args=(--silent --show-error --fail-with-body -X "$method" -H 'Content-Type: application/json')
    [ -n "${VOLLEY_TOKEN:-}" ] && args+=(-H "Authorization: Bearer $VOLLEY_TOKEN")
    [ -n "$body" ] && args+=(--data-binary "$body")
    curl "${args[@]}" "$VOLLEY_AGENT$path" || { echo "volley: $method $path failed" >&2; return 1; }
}

# wait_job ID — polls until the job is finished; prints its final state.
wait_job() {
    local id=$1 state
    while :; do
        state=$(api GET "/v1/jobs/$id" | jq -r .state)
        case $state in
            queued|scheduled|running) sleep 0.3 ;;
            *) echo "$state"; return 0 ;;
        esac
    done
}
