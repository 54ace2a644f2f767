#!/usr/bin/env bash
# Times ONNX Runtime (onnxruntime-node, CPU) and our engine (`defect onnx bench`) on the same models, alternating
# between them in one run so that both see the same machine load, and prints the medians and the ratio.
#
# usage: benchmarks/ort-compare/compare.sh [--rounds 5] [--threads 2] [--warmup 400] [--iterations 50] [--max-time 10] [--only NAME]
#   --max-time: per run, stop the warm-up and the timed runs after that many seconds (at least one run each), so a
#   slow engine does not make the comparison take hours; the table gives the runs actually timed.
#   The long warm-up measures steady state: .NET compiles hot methods in tiers (first quick code, then instrumented
#   code, then optimised code, in the background), which takes a few hundred runs of a millisecond-sized model.
#
# Cases (NAME model batch): mobilenetv2-int8-qdq b1 and b16, yolox-nano b1, resnet18-shaped fp32 b1.
# Needs: node + `npm ci` in tools/ort (done here when missing), the .NET SDK, and ../shared (or DEFECT_SHARED_DIR).
# The ResNet-18-shaped model (46 MB, random weights) is generated on first use by tools/OnnxConformance.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
shared="${DEFECT_SHARED_DIR:-$root/../shared}"
rounds=5 threads=2 warmup=400 iterations=50 maxtime=10 only=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --iterations) iterations="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    --max-time) maxtime="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

if [[ ! -d "$root/tools/ort/node_modules/onnxruntime-node" ]]; then
  (cd "$root/tools/ort" && npm ci --ignore-scripts --no-audit --no-fund >/dev/null)
fi

echo "building the CLI (Release)..." >&2
dotnet build "$root/src/DefectDetection.Cli" -c Release -v quiet -nologo >/dev/null
defect=(dotnet "$root/src/DefectDetection.Cli/bin/Release/net10.0/defect.dll")

resnet="$here/models/resnet18-shaped.onnx"
if [[ ! -f "$resnet" ]]; then
  echo "generating $resnet..." >&2
  dotnet run --project "$root/tools/OnnxConformance" -c Release -- --resnet18 "$resnet" >&2
fi

cases=(
  "mobilenetv2-int8-qdq|$shared/models/mobilenetv2-int8/mobilenetv2-int8-qdq.onnx|1"
  "mobilenetv2-int8-qdq|$shared/models/mobilenetv2-int8/mobilenetv2-int8-qdq.onnx|16"
  "yolox-nano|$shared/models/yolox-nano/yolox-nano.onnx|1"
  "resnet18-shaped-fp32|$resnet|1"
)

log="$(mktemp -d)"
trap 'rm -rf "$log"' EXIT
: > "$log/runs.jsonl"

# One line of JSON per run: {"case","batch","engine","round", ...bench JSON... } or {"error": "..."}.
record() {
  local name="$1" batch="$2" engine="$3" round="$4" out="$5" err="$6" rc="$7"
  node -e '
    const [name, batch, engine, round, outFile, errFile, rc] = process.argv.slice(1);
    const fs = require("fs");
    let r;
    try { r = rc === "0" ? JSON.parse(fs.readFileSync(outFile, "utf8")) : null; } catch { r = null; }
    if (!r) {
      const msg = (fs.readFileSync(errFile, "utf8") + fs.readFileSync(outFile, "utf8")).trim().split("\n")[0] || ("exit " + rc);
      r = { error: msg.slice(0, 160) };
    }
    console.log(JSON.stringify({ case: name, batch: +batch, engine, round: +round, ...r }));
  ' "$name" "$batch" "$engine" "$round" "$out" "$err" "$rc" >> "$log/runs.jsonl"
}

run_ort() {
  local rc=0
  node "$here/ort-bench.js" --model "$2" --batch "$3" --threads "$threads" --warmup "$warmup" --iterations "$iterations" --max-time "$maxtime" \
    > "$log/out" 2> "$log/err" || rc=$?
  record "$1" "$3" ort "$4" "$log/out" "$log/err" "$rc"
}

run_ours() {
  local rc=0
  "${defect[@]}" onnx bench --model "$2" --batch "$3" --threads "$threads" --warmup "$warmup" --iterations "$iterations" --max-time "$maxtime" --json \
    > "$log/out" 2> "$log/err" || rc=$?
  record "$1" "$3" ours "$4" "$log/out" "$log/err" "$rc"
}

for ((round = 1; round <= rounds; round++)); do
  for c in "${cases[@]}"; do
    IFS='|' read -r name model batch <<< "$c"
    [[ -n "$only" && "$name" != *"$only"* ]] && continue
    echo "round $round/$rounds: $name batch $batch" >&2
    # Alternate which engine goes first, so neither always runs on a warmer (or hotter) machine.
    if ((round % 2)); then
      run_ort "$name" "$model" "$batch" "$round"; run_ours "$name" "$model" "$batch" "$round"
    else
      run_ours "$name" "$model" "$batch" "$round"; run_ort "$name" "$model" "$batch" "$round"
    fi
  done
done

node "$here/summarize.js" "$log/runs.jsonl" "$threads" "$rounds" "$warmup" "$iterations" "$maxtime"
