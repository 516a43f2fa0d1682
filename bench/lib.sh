# Shared by bench/e2e.sh and bench/scale.sh (sourced, not run): expects repo, PEER_BENCH
# and work to be set.

# waitport waits until something listens on 127.0.0.1:$1.
waitport() { for _ in $(seq 200); do (echo > /dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 not up" >&2; exit 1; }

# build_tools builds the shared fake API and load generator into $work, and the bot unless
# BIN names a prebuilt one; it sets BIN and bot (a description of what is measured).
build_tools() {
  (cd "$PEER_BENCH/fakeapi" && go build -o "$work/fakeapi" .)
  (cd "$PEER_BENCH/openloop" && go build -o "$work/openloop" .)
  bot=${BIN:-}
  if [ -z "$bot" ]; then
    (cd "$repo" && go build -o "$work/bangban" ./cmd/bangban); BIN=$work/bangban
    bot="./cmd/bangban at $(cd "$repo" && git describe --always --dirty 2>/dev/null || echo '?')"
  fi
}
