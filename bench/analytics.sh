#!/usr/bin/env bash
# Times `deploy-ledger analytics --format json` against
# `git log --format=%H --name-only -- deployments/` on the same repository,
# in the same run, and prints the medians and their RATIO (shared, noisy
# machines: compare ratios, not seconds). Also the peak memory of one run.
#
#   bench/analytics.sh REPO...                 existing ledger repositories
#   bench/analytics.sh 1000 10000              bench/out/ledger-SIZE-s42, generated
#                                              with the gen-ledger example if absent
#   RUNS=5 bench/analytics.sh /tmp/ledger-10k  more runs (default 3)
#
# Cold runs delete .git/deploy-ledger/analytics-cache and analytics-memo
# first; warm runs keep both from the previous run (nothing new since: the
# report memo answers); "cache" runs keep the analytics cache but not the
# memo (what another set of options, or `--format html`, costs at the same
# commit); "incr" runs start from the cache of HEAD~10 (the ten commits of
# about one deployment new since the last run: the walk is extended).
# Peak memory: of a cold run, and of an incremental one.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-3}
bin=${BENCH_BIN:-$root/target/release/deploy-ledger}
if [ -z "${BENCH_BIN:-}" ]; then
    (cd "$root" && cargo build --release --quiet)
fi
command -v hyperfine >/dev/null || { echo "analytics.sh: needs hyperfine (cargo install hyperfine)" >&2; exit 2; }

repo_for() {
    case "$1" in
    *[!0-9]*) (cd "$1" && pwd) ;;
    *)
        local dir=$root/bench/out/ledger-$1-s42
        if [ ! -d "$dir/.git" ]; then
            (cd "$root" && cargo run --release --quiet --example gen-ledger -- --records "$1" --out "$dir" >&2)
        fi
        echo "$dir"
        ;;
    esac
}

median() { python3 -c 'import json,sys; print("%.3f" % json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]["median"])' "$@"; }

printf '%-28s %9s %9s %9s %9s %9s %8s %8s %8s %8s %9s %9s\n' repo "git log" cold warm cache incr \
    cold/git warm/git cache/git incr/git "peak MiB" "incr MiB"
start=$(pwd)
for arg in "$@"; do
    cd "$start"
    repo=$(repo_for "$arg")
    cd "$repo"
    out=$(mktemp)
    cache=.git/deploy-ledger/analytics-cache
    memo=.git/deploy-ledger/analytics-memo
    # The cache of HEAD~10, kept aside for the incremental runs.
    prev=$(mktemp)
    rm -f "$cache" "$memo"
    "$bin" analytics --format json --rev HEAD~10 >/dev/null
    cp "$cache" "$prev"
    # One --prepare per command (a single one would apply to all).
    hyperfine --style none --runs "$runs" --warmup 1 --export-json "$out" \
        --prepare true --prepare "rm -f $cache $memo" --prepare true --prepare "rm -f $memo" \
        --prepare "cp $prev $cache && rm -f $memo" \
        -n "git log" "git log --format=%H --name-only -- deployments/ >/dev/null" \
        -n cold "$bin analytics --format json >/dev/null" \
        -n warm "$bin analytics --format json >/dev/null" \
        -n cache "$bin analytics --format json >/dev/null" \
        -n incr "$bin analytics --format json >/dev/null" >/dev/null
    g=$(median "$out" 0); c=$(median "$out" 1); w=$(median "$out" 2); k=$(median "$out" 3); i=$(median "$out" 4)
    rm -f "$cache" "$memo"
    peak=$( { /usr/bin/time -f '%M' "$bin" analytics --format json >/dev/null; } 2>&1 | tail -1)
    cp "$prev" "$cache"
    rm -f "$memo"
    incr=$( { /usr/bin/time -f '%M' "$bin" analytics --format json >/dev/null; } 2>&1 | tail -1)
    ratio() { python3 -c "print($1/$2)"; }
    printf '%-28s %8ss %8ss %8ss %8ss %8ss %8.2f %8.3f %9.3f %8.3f %9d %9d\n' "$(basename "$repo")" \
        "$g" "$c" "$w" "$k" "$i" "$(ratio "$c" "$g")" "$(ratio "$w" "$g")" "$(ratio "$k" "$g")" \
        "$(ratio "$i" "$g")" "$((peak / 1024))" "$((incr / 1024))"
    rm -f "$out" "$prev"
done
