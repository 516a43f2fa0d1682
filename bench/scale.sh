#!/usr/bin/env bash
# End-to-end open-loop benchmark with 1, 2 and 3 bot replicas on a single redis-server and on
# a 3-master Redis Cluster (the scaling table of BENCHMARKS.md).
#
#   bench/scale.sh [RATES] [STAGE]          e.g. BIN=/tmp/bangban-scale bench/scale.sh 200,300 10s
#
# Env: BIN (prebuilt binary; else ./cmd/bangban is built), MODES (default "single cluster"),
# REPLICAS (default "1 2 3"), PEER_BENCH (default ../shared/peer-bench), as in bench/e2e.sh.
#
# For every Redis form, replica count and rate: the Redis data is flushed with no bot
# running, a fresh fake Bot API and N bot processes start (same env as bench/e2e.sh, each on
# its own LISTEN_ADDR, one REDIS_URL and prefix), the script waits until every /readyz is 200
# and the 64 shards are spread evenly (bangban_shards_held of each replica within
# floor/ceil of 64/N), resets the Redis statistics (CONFIG RESETSTAT on every node), then
# runs one openloop stage at that rate. openloop takes one webhook URL, so every update is
# POSTed to replica 1; any replica accepts any update (intake only appends to the chat's shard
# stream) and the shard workers and senders are spread over all replicas.
# Per stage it prints p50/p99, bot CPU-ms per update summed over the replicas, Redis CPU-ms
# per update summed over the nodes, and from INFO stats / INFO commandstats (summed over the
# nodes) Redis commands, EVALSHA calls and network bytes in/out per update. The Redis
# statistics cover the whole stage including idle work (lease renewals, blocking reads,
# cluster topology refreshes). Ports are free ones in 20000-25999 (cluster bus port +10000);
# everything listens on 127.0.0.1 and stops at the end.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
PEER_BENCH=${PEER_BENCH:-$repo/../shared/peer-bench}
RATES=${1:-200,300}; STAGE=${2:-10s}
MODES=${MODES:-single cluster}; REPLICAS=${REPLICAS:-1 2 3}
SHARDS=64
work=$(mktemp -d); RPIDS=(); BOTS=(); A=""; USED=""
cleanup() {
  for p in "${BOTS[@]}" $A "${RPIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${BOTS[@]}" $A "${RPIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
# free: a port in 20000-25999 that is free on 127.0.0.1, together with port+10000 (cluster bus).
free() {
  local p
  p=$(python3 -c '
import random, socket, sys
used = set(int(x) for x in sys.argv[1:])
for _ in range(500):
    p = random.randint(20000, 25999)
    if p in used or p == 6379: continue
    try:
        for q in (p, p + 10000):
            s = socket.socket(); s.bind(("127.0.0.1", q)); s.close()
    except OSError:
        continue
    print(p); break
' $USED)
  USED="$USED $p"; echo "$p"
}

# shellcheck source=bench/lib.sh
. "$repo/bench/lib.sh"
build_tools
echo "# $(date -u +%FT%TZ) $(nproc) CPUs, $(go version | cut -d' ' -f3), redis $(redis-server --version | cut -d' ' -f3), modes $MODES, replicas $REPLICAS, rates $RATES, stage $STAGE, bot $bot; webhook POSTs to replica 1" >&2
echo "| Redis | replicas | offered/s | updates | p50 ms | p99 ms | bot CPU-ms/upd (sum) | Redis CPU-ms/upd (sum) | Redis cmds/upd | EVALSHA/upd | Redis in B/upd | Redis out B/upd |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"

rcli() { redis-cli -h 127.0.0.1 -p "$@"; }

for mode in $MODES; do
  NODES=(); RPIDS=()
  if [ "$mode" = single ]; then
    p=$(free)
    redis-server --port "$p" --bind 127.0.0.1 --save '' --appendonly no --loglevel warning >/dev/null 2>&1 & RPIDS+=($!)
    NODES+=("$p"); waitport "$p"
    url="redis://127.0.0.1:$p/0"
  else
    for _ in 1 2 3; do
      p=$(free); mkdir -p "$work/node-$p"
      (cd "$work/node-$p" && exec redis-server --port "$p" --bind 127.0.0.1 --cluster-enabled yes \
        --cluster-config-file "nodes-$p.conf" --save '' --appendonly no --loglevel warning >/dev/null 2>&1) & RPIDS+=($!)
      NODES+=("$p")
    done
    for p in "${NODES[@]}"; do waitport "$p"; done
    redis-cli --cluster create "127.0.0.1:${NODES[0]}" "127.0.0.1:${NODES[1]}" "127.0.0.1:${NODES[2]}" \
      --cluster-replicas 0 --cluster-yes >"$work/cluster-create.log" 2>&1
    for p in "${NODES[@]}"; do
      for _ in $(seq 100); do rcli "$p" cluster info | grep -q 'cluster_state:ok' && break; sleep 0.1; done
      rcli "$p" cluster info | grep -q 'cluster_state:ok' || { echo "cluster node $p not ok" >&2; exit 1; }
    done
    url="redis://127.0.0.1:${NODES[0]}?addr=127.0.0.1:${NODES[1]}&addr=127.0.0.1:${NODES[2]}"
  fi
  for n in $REPLICAS; do
    for rate in ${RATES//,/ }; do
      for p in "${NODES[@]}"; do rcli "$p" flushall >/dev/null; done  # no bot is running here
      AP=$(free)
      "$work/fakeapi" -addr "127.0.0.1:$AP" >/dev/null 2>&1 & A=$!; waitport "$AP"
      BOTS=(); HPS=()
      for i in $(seq "$n"); do
        HP=$(free); HPS+=("$HP")
        BOT_TOKEN=123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA BOT_API_URL="http://127.0.0.1:$AP" \
        WEBHOOK_URL=https://bench.example.org/telegram/webhook WEBHOOK_SECRET=bench LISTEN_ADDR="127.0.0.1:$HP" \
        REDIS_URL="$url" STAFF_CHAT_ID=-100123 LOG_LEVEL=warn "$BIN" >"$work/bangban-$mode-$n-$rate-$i.log" 2>&1 & BOTS+=($!)
      done
      for HP in "${HPS[@]}"; do waitport "$HP"; done
      # Ready, and the shards spread: all held, none above ceil(SHARDS/n) (each replica's
      # target), so none below SHARDS - (n-1)*ceil (e.g. 22/22/20 for 3 replicas).
      hi=$(((SHARDS + n - 1) / n)); lo=$((SHARDS - (n - 1) * hi)); ok=""; held=""
      for _ in $(seq 300); do
        ok=1; sum=0; held=""
        for HP in "${HPS[@]}"; do
          [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HP/readyz")" = 200 ] || { ok=""; break; }
          h=$(curl -s "http://127.0.0.1:$HP/metrics" | awk '$1=="bangban_shards_held"{print int($2)}')
          h=${h:-0}; sum=$((sum + h)); held="$held $h"
          [ "$h" -ge "$lo" ] && [ "$h" -le "$hi" ] || ok=""
        done
        [ -n "$ok" ] && [ "$sum" -eq "$SHARDS" ] && break
        ok=""; sleep 0.1
      done
      [ -n "$ok" ] || { echo "# $mode n=$n: shards not spread in 30 s (held:$held)" >&2; tail -n 3 "$work"/bangban-"$mode"-"$n"-"$rate"-*.log >&2; exit 1; }
      echo "# $mode n=$n rate=$rate: shards held:$held" >&2
      pids="fakeapi=$A"
      for i in $(seq "$n"); do pids="$pids,bot$i=${BOTS[$((i - 1))]}"; done
      for i in "${!RPIDS[@]}"; do pids="$pids,redis$((i + 1))=${RPIDS[$i]}"; done
      for p in "${NODES[@]}"; do rcli "$p" config resetstat >/dev/null; done
      # exec keeps the shell's pid, so the load generator reports its own CPU as loadgen=$$.
      P=$pids sh -c 'exec "$0" "$@" -pids "$P,loadgen=$$"' "$work/openloop" \
        -url "http://127.0.0.1:${HPS[0]}/telegram/webhook" -secret bench -api "http://127.0.0.1:$AP" \
        -rates "$rate" -stage "$STAGE" -slo 1h >"$work/stage" 2>&1
      for p in "${NODES[@]}"; do rcli "$p" info stats; rcli "$p" info commandstats; done >"$work/info"
      python3 - "$work/stage" "$work/info" "$mode" "$n" <<'EOF'
import json, re, sys
st = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")][-1]
info = open(sys.argv[2]).read()
u = max(st["updates"], 1)
def tot(pat): return sum(int(m) for m in re.findall(pat, info))
cpu = lambda pre: sum(v["cpu_ms_per_update"] for k, v in st["procs"].items() if k.startswith(pre))
row = [sys.argv[3], sys.argv[4], st["target_updates_per_s"], st["updates"], st["lat_ms"]["p50"], st["lat_ms"]["p99"],
       "%.2f" % cpu("bot"), "%.2f" % cpu("redis"),
       "%.1f" % (tot(r"total_commands_processed:(\d+)") / u), "%.2f" % (tot(r"cmdstat_evalsha:calls=(\d+)") / u),
       "%.0f" % (tot(r"total_net_input_bytes:(\d+)") / u), "%.0f" % (tot(r"total_net_output_bytes:(\d+)") / u)]
print("| " + " | ".join(str(x) for x in row) + " |", flush=True)
agg = {}
for k, v in re.findall(r"cmdstat_([a-z|]+):calls=(\d+)", info): agg[k] = agg.get(k, 0) + int(v)
top = {k: round(v / u, 2) for k, v in sorted(agg.items(), key=lambda kv: -kv[1]) if v / u >= 0.05}
print("# %s n=%s rate=%s errors=%s fakeapi=%.2f loadgen=%.2f CPU-ms/upd; per update: %s" % (
    sys.argv[3], sys.argv[4], st["target_updates_per_s"], st["errors"], cpu("fakeapi"), cpu("loadgen"), json.dumps(top)), file=sys.stderr)
EOF
      for b in "${BOTS[@]}"; do kill "$b" 2>/dev/null || true; done  # the bots first: they release their leases
      for b in "${BOTS[@]}"; do wait "$b" 2>/dev/null || true; done
      BOTS=()
      kill "$A" 2>/dev/null || true; wait "$A" 2>/dev/null || true; A=""
    done
  done
  for p in "${RPIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  RPIDS=()
done
