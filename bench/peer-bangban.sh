#!/usr/bin/env bash
# Runs the bangban binary for ../shared/peer-bench/run.sh, whose fixed BOT_TOKEN (123456:bench)
# fails bangban's token check: it replaces the token with a well-formed fake one and execs
# the binary, keeping this pid for run.sh's CPU and RSS readings. The binary is $BANGBAN_BIN,
# default ./bangban at the repository root.
#
#   go build -o bangban ./cmd/bangban && ../shared/peer-bench/run.sh bench/peer-bangban.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
BOT_TOKEN=123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA exec "${BANGBAN_BIN:-$repo/bangban}" "$@"
