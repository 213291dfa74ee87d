#!/usr/bin/env bash
# The main job on the embedded default, from a fresh machine: set everything up, start a local Kafka broker
# and Redis (left running; `ops/services.sh down` stops them), and run `exitwatch demo`, which generates a
# small company with a few departures, feeds it through the connectors and the streaming worker, and prints
# the alerts as they arrive. Extra arguments go to `exitwatch demo` (see `exitwatch demo --help`).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
ops/setup.sh all
eval "$(ops/services.sh up)"
export EXITWATCH_DEV_MODE="${EXITWATCH_DEV_MODE:-1}"   # generated data, development keys (docs/operations.md)
exec .venv/bin/exitwatch demo "$@"
