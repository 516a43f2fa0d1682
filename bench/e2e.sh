#!/usr/bin/env bash
# End-to-end open-loop benchmark of the bangban binary at a person's pace.
#
#   bench/e2e.sh [RATES] [STAGE] [REPEAT]        e.g. bench/e2e.sh 250,500,750,1000 12s 2
#
# Each simulated chat sends /start, /lang, taps "English" on the keyboard the bot sent, then
# /help, 1.1 s apart; stages raise the offered update rate until p99 (webhook POST to the
# bot's first Bot API call for that chat) passes 100 ms. Prints one JSON line per stage with
# CPU ms per update of the bot, Redis, the fake Bot API and the load generator, and peak RSS.
#
# It drives the shared peer-bench tools by running them, not by copying them: the load
# generator (openloop) and the lenient, fast fake Bot API (fakeapi) from $PEER_BENCH
# (default ../shared/peer-bench beside the repository). Every repetition gets a fresh
# redis-server, fake API and bot: openloop numbers updates from 1 in every run, and the bot
# rightly drops an update_id it has seen. Everything listens on 127.0.0.1 only and stops
# at the end. Set BIN to measure a prebuilt binary instead of building ./cmd/bangban.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
PEER_BENCH=${PEER_BENCH:-$repo/../shared/peer-bench}
RATES=${1:-250,500,750,1000,1500,2000,3000}; STAGE=${2:-12s}; REPEAT=${3:-1}
work=$(mktemp -d); PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
free() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# shellcheck source=bench/lib.sh
. "$repo/bench/lib.sh"
build_tools
echo "# $(date -u +%FT%TZ) $(nproc) CPUs, $(go version | cut -d' ' -f3), redis $(redis-server --version | cut -d' ' -f3), rates $RATES, stage $STAGE, bot $bot" >&2

for i in $(seq "$REPEAT"); do
  RP=$(free); AP=$(free); HP=$(free)
  redis-server --port "$RP" --bind 127.0.0.1 --save '' --appendonly no --loglevel warning >/dev/null 2>&1 & PIDS+=($!); R=$!; waitport "$RP"
  "$work/fakeapi" -addr "127.0.0.1:$AP" >/dev/null 2>&1 & PIDS+=($!); A=$!; waitport "$AP"
  BOT_TOKEN=123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA BOT_API_URL="http://127.0.0.1:$AP" \
  WEBHOOK_URL=https://bench.example.org/telegram/webhook WEBHOOK_SECRET=bench LISTEN_ADDR="127.0.0.1:$HP" \
  REDIS_URL="redis://127.0.0.1:$RP/0" STAFF_CHAT_ID=-100123 LOG_LEVEL=warn "$BIN" >"$work/bangban.log" 2>&1 & PIDS+=($!); B=$!; waitport "$HP"
  # exec keeps the shell's pid, so the load generator can report its own CPU as loadgen=$$.
  B=$B R=$R A=$A sh -c 'exec "$0" "$@" -pids "bot=$B,redis=$R,fakeapi=$A,loadgen=$$"' "$work/openloop" \
    -url "http://127.0.0.1:$HP/telegram/webhook" -secret bench -api "http://127.0.0.1:$AP" -rates "$RATES" -stage "$STAGE" \
    2>&1 | tee "$work/stages" | sed "s/^/{\"run\":$i,\"stage\":/; s/\$/}/"
  # Redis round trips per update over the run: the figure the sender's scripts are tuned by.
  redis-cli -p "$RP" info commandstats | python3 -c '
import json, re, sys
n = sum(json.loads(l).get("updates", 0) for l in open(sys.argv[1]) if l.startswith("{"))
calls = {m[1]: int(m[2]) for m in re.finditer(r"cmdstat_([a-z|]+):calls=(\d+)", sys.stdin.read())}
per = {k: round(v / max(n, 1), 2) for k, v in sorted(calls.items(), key=lambda kv: -kv[1]) if v / max(n, 1) >= 0.01}
print("# redis calls per update (run %s, %d updates): total %.2f %s" % (sys.argv[2], n, sum(per.values()), json.dumps(per)))
' "$work/stages" "$i" >&2
  kill "$B" 2>/dev/null || true; wait "$B" 2>/dev/null || true  # the bot first: it releases its leases
  kill "$A" "$R" 2>/dev/null || true; wait "$A" "$R" 2>/dev/null || true
  if [ -s "$work/bangban.log" ]; then echo "# bot log (run $i):" >&2; tail -5 "$work/bangban.log" >&2; fi
done
