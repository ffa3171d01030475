#!/usr/bin/env bash
# Times the write commands on synthetic ledgers against `git status
# --porcelain` on the same repository, in the same run, and prints the
# median of each and their RATIO (machines are shared and noisy: compare
# ratios, not seconds); with hyperfine, also the ratio of CPU time (user +
# system, means), which waiting on a busy machine moves less.
#
#   bench/run.sh [SIZE...]          default sizes: 1000 10000
#   RUNS=20 bench/run.sh 100000     more runs; see bench/lib.sh for settings
#
# For each size: `start` cold (no caches under .git/deploy-ledger/), warm
# (the scan cache `status` writes, nothing changed) and right after another `start` (one new
# record since the cache, which is rewritten), `phase`, `finish`; the
# repository is put back in its generated state before every timed run
# (bench/prepare.sh).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 10000)

bench_build
ensure_hyperfine
export BENCH_BIN=$BIN
# A fixed clock (after every generated record) and no user config, so every
# run writes the same record.
export DEPLOY_LEDGER_NOW=2031-01-15T10:00:00Z
export XDG_CONFIG_HOME=$BENCH_OUT/xdg
mkdir -p "$XDG_CONFIG_HOME"
prep="$BENCH_ROOT/bench/prepare.sh"
start=("$BIN" start --service bench --env production --version 1.0.0 --operator bench)
# Another service, right after `start`: one new record since the cache.
start2=("$BIN" start --service bench2 --env production --version 1.0.0 --operator bench)

summary=()
for size in "${sizes[@]}"; do
    repo=$(ledger_repo "$size")
    cd "$repo"
    # The warm cache, saved for reuse: what a `start` leaves behind. Files
    # changed less than 2 s before a cache write are never trusted from it
    # (and a fresh checkout is that recent): a second `start`, 2 s later,
    # gives the cache a user has in steady state.
    # `status` scans every record and writes the cache (a cold `start` reads
    # only its own service's records and writes none).
    sh "$prep" cold
    "$BIN" status >/dev/null
    sleep 2.1
    sh "$prep" clean
    "$BIN" status >/dev/null
    cp .git/deploy-ledger/scan-cache .git/deploy-ledger/scan-cache.bench
    sh "$prep" clean
    git status --porcelain >/dev/null # refresh the index once

    results=$BENCH_OUT/results-$size.tsv
    if have_hyperfine; then
        json=$BENCH_OUT/hyperfine-$size.json
        hyperfine -N --style basic --warmup "$WARMUP" --runs "$RUNS" --export-json "$json" \
            -n "git status --porcelain" --prepare "sh $prep clean" "git status --porcelain" \
            -n "start (cold)" --prepare "sh $prep cold" "${start[*]}" \
            -n "start (warm)" --prepare "sh $prep warm" "${start[*]}" \
            -n "start (after a start)" --prepare "sh $prep started" "${start2[*]}" \
            -n "phase" --prepare "sh $prep started" "$BIN phase execution" \
            -n "finish" --prepare "sh $prep phased" "$BIN finish" >&2
        jq -r '.results[] | [.command, .median, .user + .system] | @tsv' "$json" >"$results"
    else
        {
            bench_time "git status --porcelain" "sh $prep clean" git status --porcelain
            bench_time "start (cold)" "sh $prep cold" "${start[@]}"
            bench_time "start (warm)" "sh $prep warm" "${start[@]}"
            bench_time "start (after a start)" "sh $prep started" "${start2[@]}"
            bench_time "phase" "sh $prep started" "$BIN" phase execution
            bench_time "finish" "sh $prep phased" "$BIN" finish
        } >"$results"
    fi
    sh "$prep" warm
    cd "$BENCH_ROOT"
    base=$(awk -F'\t' '$1 == "git status --porcelain" { print $2 }' "$results")
    cpu=$(awk -F'\t' '$1 == "git status --porcelain" { print $3 }' "$results")
    while IFS= read -r line; do
        summary+=("$line")
    done < <(awk -F'\t' -v size="$size" -v base="$base" -v cpu="$cpu" '{
        printf "%8s  %-24s %9.1f ms  %6.2fx", size, $1, $2 * 1000, $2 / base
        if ($3 != "" && cpu > 0) printf "  %6.2fx", $3 / cpu
        printf "\n" }' "$results")
done

echo
echo "    size  command                     median  vs git status --porcelain (wall, cpu)"
printf '%s\n' "${summary[@]}"
