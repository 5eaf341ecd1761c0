#!/usr/bin/env bash
# Every benchmark of BENCHMARKS.md in one run: installs the peers if missing (Debian's
# chromium, the typst CLI from crates.io), builds in release, runs Kvota's own benches and
# the side-by-side comparison, and writes benches/results/latest.{md,json}.
#   KVOTA_BENCH_RUNS      runs per in-process case (default 30)
#   KVOTA_LOAD_SECONDS    seconds per gRPC load step (default 10)
#   KVOTA_RUNS_SCALE      multiplies the peers' runs per case (default 1)
#   KVOTA_INSTRUCTIONS=0  leaves out the instruction counts (callgrind, ~5 minutes)
set -euo pipefail
cd "$(dirname "$0")/.."

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v chromium >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  sudo_if_needed apt-get update -qq
  sudo_if_needed apt-get install -y -qq --no-install-recommends chromium
fi
command -v typst >/dev/null || cargo install typst-cli --locked --version '^0.15'
if [ "${KVOTA_INSTRUCTIONS:-1}" != 0 ] && ! command -v valgrind >/dev/null; then
  sudo_if_needed apt-get install -y -qq --no-install-recommends valgrind
fi

target="${CARGO_TARGET_DIR:-target}"
cargo build --release --bin kvota
mkdir -p benches/results
cargo bench --bench render -- --json | tee benches/results/render.jsonl
cargo bench --bench grpc_load -- --json | tee benches/results/load.jsonl
cargo bench --bench ltv | tee benches/results/ltv.txt
instructions=()
if [ "${KVOTA_INSTRUCTIONS:-1}" != 0 ]; then
  bench=$(cargo bench --bench render --no-run 2>&1 | sed -n 's/.*Executable .*(\(.*\))$/\1/p')
  instructions=(--instructions --render-bench "$bench")
fi
python3 benches/compare.py --render benches/results/render.jsonl \
  --load benches/results/load.jsonl --kvota "$target/release/kvota" \
  --runs-scale "${KVOTA_RUNS_SCALE:-1}" "${instructions[@]}"
