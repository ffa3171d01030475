# Shared helpers of the benchmark scripts; `source bench/lib.sh` from the
# repository root (bench/run.sh and bench/analytics.sh do).
#
#   bench_build                 builds the release binary and the generator
#   ledger_repo SIZE            prints the path of a synthetic ledger of SIZE
#                               records (generated once, then reused)
#   bench_reset REPO            puts REPO back in its generated state
#   bench_time NAME PREPARE CMD...   (fallback without hyperfine)
#
# Settings (environment): SEED (42), BENCH_OUT (bench/out), RUNS (10),
# WARMUP (2), NO_HYPERFINE=1 to use the shell loop even with hyperfine,
# DEPLOY_LEDGER_BIN to time another binary.

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SEED=${SEED:-42}
BENCH_OUT=${BENCH_OUT:-$BENCH_ROOT/bench/out}
RUNS=${RUNS:-10}
WARMUP=${WARMUP:-2}
# DEPLOY_LEDGER_BIN times another build (e.g. an older commit's) instead.
BIN=${DEPLOY_LEDGER_BIN:-$BENCH_ROOT/target/release/deploy-ledger}
GEN=$BENCH_ROOT/target/release/examples/gen-ledger

bench_build() {
    (cd "$BENCH_ROOT" && cargo build --release --quiet --bin deploy-ledger --example gen-ledger)
}

# Generation takes ~2.5 s per 1,000 records on a busy 2-core machine (all in
# git fast-import); a finished repository has .git/gen-ledger.done.
ledger_repo() {
    local size=$1
    local repo="$BENCH_OUT/ledger-$size-s$SEED"
    if [ ! -f "$repo/.git/gen-ledger.done" ]; then
        mkdir -p "$BENCH_OUT"
        "$GEN" --records "$size" --seed "$SEED" --out "$repo" --force >&2
        touch "$repo/.git/gen-ledger.done"
    fi
    printf '%s\n' "$repo"
}

bench_reset() {
    git -C "$1" checkout -q -- deployments
    git -C "$1" clean -fdq deployments
    rm -f "$1/.git/deploy-ledger/current" "$1/.git/deploy-ledger/lock"
}

have_hyperfine() {
    [ -z "${NO_HYPERFINE:-}" ] && command -v hyperfine >/dev/null 2>&1
}

# Installs hyperfine when missing and we are root on Debian/Ubuntu.
ensure_hyperfine() {
    if [ -n "${NO_HYPERFINE:-}" ] || command -v hyperfine >/dev/null 2>&1; then
        return 0
    fi
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get install -y -qq hyperfine >/dev/null 2>&1 ||
            { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq hyperfine >/dev/null 2>&1; } || true
    fi
    command -v hyperfine >/dev/null 2>&1 || echo "bench: no hyperfine, timing with a shell loop" >&2
}

now_ns() { date +%s%N; }

# bench_time NAME PREPARE CMD... : runs PREPARE (a shell string) then CMD,
# WARMUP + RUNS times; prints "NAME<TAB>median seconds".
bench_time() {
    local name=$1 prepare=$2
    shift 2
    local i t0 t1 times=()
    for ((i = 0; i < WARMUP + RUNS; i++)); do
        sh -c "$prepare" >/dev/null 2>&1
        t0=$(now_ns)
        "$@" >/dev/null 2>&1
        t1=$(now_ns)
        ((i >= WARMUP)) && times+=($((t1 - t0)))
    done
    printf '%s\n' "${times[@]}" | sort -n |
        awk -v name="$name" '{ a[NR] = $1 } END {
            m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
            printf "%s\t%.6f\n", name, m / 1e9 }'
}
