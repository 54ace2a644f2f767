#!/usr/bin/env bash
# The scaled-out figures of docs/service-scale-out.md: starts one API process and N worker processes
# (`defect serve --role api|worker`) on PostgreSQL and RabbitMQ, a local webhook listener (samples/ServiceWalkthrough/
# listener.py) with the alarm rule on, runs tools/LoadGen against the API with the memory of every process sampled,
# and stops everything.
#
#   tools/LoadGen/scale-out.sh MODEL.ddmodel [LoadGen options...]
#   e.g. tools/LoadGen/scale-out.sh cookies.ddmodel --count 10000 --concurrency 4
#
# DEFECT_POSTGRES (an Npgsql connection string to an empty database) and DEFECT_RABBITMQ (amqp URI) say where;
# WORKERS (default 2) how many worker processes; LOADGEN_QUEUE the queue (default defect.load); LOG_DIR where the
# processes' logs are kept (default a new temporary folder, printed).
# Needs the Release builds of src/DefectDetection.Cli and tools/LoadGen.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
model=$(realpath "${1:?usage: scale-out.sh MODEL.ddmodel [LoadGen options]}"); shift
defect=(dotnet "$root/src/DefectDetection.Cli/bin/Release/net10.0/defect.dll")
loadgen="$root/tools/LoadGen/bin/Release/net10.0/LoadGen.dll"
export DEFECT_POSTGRES=${DEFECT_POSTGRES:-"Host=127.0.0.1;Username=defect;Password=defect;Database=defect_load"}
export DEFECT_RABBITMQ=${DEFECT_RABBITMQ:-"amqp://defect:defect@127.0.0.1:5672/"}
workers=${WORKERS:-2}
queue=${LOADGEN_QUEUE:-defect.load}
work=$(mktemp -d)
logs=${LOG_DIR:-$(mktemp -d)}
mkdir -p "$logs"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; echo "logs: $logs"; }
trap cleanup EXIT

secret=a-long-shared-secret
python3 "$root/samples/ServiceWalkthrough/listener.py" --port 9100 --secret "$secret" --out "$logs/webhooks.jsonl" >/dev/null &
pids+=($!)
cat > "$work/serve.json" <<JSON
{ "webhooks": [ { "url": "http://127.0.0.1:9100/hook", "secret": "$secret", "events": ["anomaly", "alarm", "invalid"] } ],
  "alarms": [ { "name": "line-rate", "kind": "anomaly_rate", "scope": "line", "threshold": 20, "last_images": 10 } ] }
JSON
common=(--model "$model" --data "$work/data" --config "$work/serve.json" --queue "$queue")
"${defect[@]}" serve --role api "${common[@]}" --urls http://127.0.0.1:5000 > "$logs/api.log" 2>&1 &
api=$!; pids+=("$api")
until curl -sf http://127.0.0.1:5000/healthz >/dev/null; do sleep 0.5; kill -0 "$api" || { cat "$logs/api.log"; exit 1; }; done
named="api=$api"
for i in $(seq 1 "$workers"); do
  "${defect[@]}" serve --role worker "${common[@]}" --urls "http://127.0.0.1:$((5100 + i))" > "$logs/worker-$i.log" 2>&1 &
  pids+=($!); named="$named,worker-$i=$!"
  until curl -sf "http://127.0.0.1:$((5100 + i))/healthz" >/dev/null; do sleep 0.5; done
done
key=$("${defect[@]}" serve key create --scopes ingest,read --name loadgen)
echo "api and $workers workers on PostgreSQL and RabbitMQ ($named)"
dotnet "$loadgen" --url http://127.0.0.1:5000 --key "$key" --images "$root/../shared/datasets/lfv-cookies/test-images" --pid "$named" "$@"
echo "webhooks received: $(wc -l < "$logs/webhooks.jsonl"), with a valid signature: $(grep -c '"valid": true' "$logs/webhooks.jsonl")"
