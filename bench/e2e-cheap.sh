#!/usr/bin/env bash
# End-to-end open-loop benchmark of the bangban binary with a cheap harness: the fake Bot
# API and the load generator are one small Go process (bench/loadgen), so that the harness
# does not use up the machine before the bot does (bench/e2e.sh's shared openloop + fakeapi
# cost ~1.5 CPU-ms per update).
#
#   bench/e2e-cheap.sh [RATES] [SECONDS] [REPEAT]     e.g. bench/e2e-cheap.sh 300,600,1000 10 2
#
# Each simulated chat sends /start, /lang, taps "English" on the picker, then /help, 1.1 s
# after the previous step's first reply; stages raise the offered update rate and stop after
# the first whose p99 (webhook POST to the bot's first Bot API call for that step) passes
# 100 ms or that has errors. Prints one table row per stage: latency, errors, Bot API calls
# per update, CPU-ms per update of the bot, Redis and the harness itself, the bot's peak RSS;
# then Redis calls per update. Every repetition gets a fresh redis-server (no persistence),
# harness and bot, all on 127.0.0.1, stopped at the end. BIN measures a prebuilt binary
# instead of building ./cmd/bangban; LOADGEN_FLAGS adds flags to bench/loadgen (e.g.
# "-pace 2s"); PERF=FILE records the bot with `perf record -g` over the whole run.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
RATES=${1:-300,600,1000,1500,2000,3000}; STAGE=${2:-10}; REPEAT=${3:-1}
case $STAGE in *[0-9]) STAGE=${STAGE}s ;; esac
work=$(mktemp -d); PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
free() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# shellcheck source=bench/lib.sh
. "$repo/bench/lib.sh"
(cd "$repo" && go build -o "$work/loadgen" ./bench/loadgen)
bot=${BIN:-}
if [ -z "$bot" ]; then
  (cd "$repo" && go build -o "$work/bangban" ./cmd/bangban); BIN=$work/bangban
  bot="./cmd/bangban at $(cd "$repo" && git describe --always --dirty 2>/dev/null || echo '?')"
fi
echo "# $(date -u +%FT%TZ) $(nproc) CPUs, $(go version | cut -d' ' -f3), redis $(redis-server --version | cut -d' ' -f3), rates $RATES, stage $STAGE, bot $bot" >&2

for i in $(seq "$REPEAT"); do
  RP=$(free); AP=$(free); HP=$(free)
  redis-server --port "$RP" --bind 127.0.0.1 --save '' --appendonly no --loglevel warning >/dev/null 2>&1 & PIDS+=($!); R=$!; waitport "$RP"
  header=false; [ "$i" = 1 ] && header=true
  # shellcheck disable=SC2086
  "$work/loadgen" -api "127.0.0.1:$AP" -url "http://127.0.0.1:$HP/telegram/webhook" -secret bench \
    -ready "http://127.0.0.1:$HP/readyz" -pids-file "$work/pids" -rates "$RATES" -stage "$STAGE" \
    -run "$i" -header="$header" -table "$work/table" ${LOADGEN_FLAGS:-} & PIDS+=($!); L=$!
  waitport "$AP"
  BOT_TOKEN=123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA BOT_API_URL="http://127.0.0.1:$AP" \
  WEBHOOK_URL=https://bench.example.org/telegram/webhook WEBHOOK_SECRET=bench LISTEN_ADDR="127.0.0.1:$HP" \
  REDIS_URL="redis://127.0.0.1:$RP/0" STAFF_CHAT_ID=-100123 LOG_LEVEL=warn "$BIN" >"$work/bangban.log" 2>&1 & PIDS+=($!); B=$!
  if [ -n "${PERF:-}" ]; then perf record -q -e cpu-clock -F 999 -g -p "$B" -o "$PERF" 2>/dev/null & PIDS+=($!); P=$!; fi
  echo "bot=$B,redis=$R" > "$work/pids.new" && mv "$work/pids.new" "$work/pids"
  status=0; wait "$L" || status=$?
  if [ -n "${PERF:-}" ]; then kill -INT "$P" 2>/dev/null || true; wait "$P" 2>/dev/null || true; fi
  # Redis calls per update over the run (commands inside scripts are counted too).
  redis-cli -p "$RP" info commandstats | python3 -c '
import json, re, sys
n = sum(int(l.split("|")[4]) for l in open(sys.argv[1]) if re.match(r"\|\s*\d", l))
text = sys.stdin.read()
calls = {m[1]: int(m[2]) for m in re.finditer(r"cmdstat_([a-z|]+):calls=(\d+)", text)}
per = {k: round(v / max(n, 1), 2) for k, v in sorted(calls.items(), key=lambda kv: -kv[1]) if v / max(n, 1) >= 0.01}
print("# redis calls per update (run %s, %d updates): %s" % (sys.argv[2], n, json.dumps(per)))
usec = {m[1]: int(m[2]) for m in re.finditer(r"cmdstat_([a-z|]+):calls=\d+,usec=(\d+)", text)}
per = {k: round(v / max(n, 1), 1) for k, v in sorted(usec.items(), key=lambda kv: -kv[1]) if v / max(n, 1) >= 0.5}
print("# redis command time, µs per update (run %s; scripts include their calls): %s" % (sys.argv[2], json.dumps(per)))
' "$work/table" "$i" >&2
  kill "$B" 2>/dev/null || true; wait "$B" 2>/dev/null || true  # the bot first: it releases its leases
  kill "$R" 2>/dev/null || true; wait "$R" 2>/dev/null || true
  if [ -s "$work/bangban.log" ]; then echo "# bot log (run $i):" >&2; tail -5 "$work/bangban.log" >&2; fi
  [ "$status" = 0 ] || { echo "loadgen failed (run $i)" >&2; exit "$status"; }
done
