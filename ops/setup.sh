#!/usr/bin/env bash
# Everything exitwatch needs on a fresh Debian 12 machine, in steps (each idempotent):
#
#   ops/setup.sh apt     # Debian packages: redis-server, prometheus, Java 17, Maven, docker-compose (root or sudo)
#   ops/setup.sh venv    # .venv/ at the repository root with exitwatch and its test dependencies
#   ops/setup.sh jars    # the Kafka broker's jars from Maven Central into the cache (see ops/kafka/kafka.sh)
#   ops/setup.sh all     # the three
#
# SKIP_APT=1 skips the packages (already there, or not root). Used by ops/demo.sh and .ci/run.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

APT_PACKAGES=(
    redis-server prometheus docker-compose          # services and the compose-file check
    python3 python3-venv python3-pip                # .venv
    openjdk-17-jre-headless maven curl ca-certificates  # the Kafka broker and its jars
    git
)

apt_step() {
    if [[ "${SKIP_APT:-0}" == 1 ]]; then
        echo "setup: SKIP_APT=1, Debian packages skipped" >&2
        return 0
    fi
    local missing=()
    local p
    for p in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [[ ${#missing[@]} -eq 0 ]]; then
        echo "setup: Debian packages present" >&2
        return 0
    fi
    local sudo=()
    if [[ $EUID -ne 0 ]]; then
        command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
        sudo=(sudo)
    fi
    echo "setup: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

venv_step() {
    # An existing .venv is kept (re-creating it over another interpreter would change it for everyone).
    [[ -x .venv/bin/python ]] || python3 -m venv .venv
    PIP_DISABLE_PIP_VERSION_CHECK=1 .venv/bin/python -m pip install -q -e '.[test]'
}

jars_step() { ops/kafka/kafka.sh fetch; }

case "${1:-all}" in
    apt) apt_step ;;
    venv) venv_step ;;
    jars) jars_step ;;
    all) apt_step; venv_step; jars_step ;;
    *) echo "usage: ops/setup.sh apt|venv|jars|all" >&2; exit 2 ;;
esac
