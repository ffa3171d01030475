#!/bin/sh
# Puts the ledger in the current folder in a given state before a timed run
# (bench/run.sh, through hyperfine --prepare).
#   clean    the generated state (no new record, no pointer)
#   cold     clean, and no cache (scan-cache, dirty-cache)
#   warm     clean, with the scan cache saved by run.sh
#   started  warm, then `start` (for timing `phase`)
#   phased   started, then `phase execution` (for timing `finish`)
set -e
bin=${BENCH_BIN:?}
git checkout -q -- deployments
git clean -fdq deployments
rm -f .git/deploy-ledger/current .git/deploy-ledger/lock
case "$1" in
clean) ;;
cold) rm -f .git/deploy-ledger/scan-cache .git/deploy-ledger/dirty-cache ;;
warm | started | phased)
    if [ -f .git/deploy-ledger/scan-cache.bench ]; then
        cp .git/deploy-ledger/scan-cache.bench .git/deploy-ledger/scan-cache
    fi
    ;;
*) echo "prepare.sh: unknown state $1" >&2; exit 2 ;;
esac
case "$1" in
started | phased) "$bin" start --service bench --env production --version 1.0.0 --operator bench >/dev/null ;;
esac
case "$1" in
phased) "$bin" phase execution >/dev/null ;;
esac
