#!/usr/bin/env bash
# The README's service walkthrough, for real: a project trained on the cookies, `defect serve` on it, an API key,
# the 22 cookie test images posted with curl, results and counts read back, webhooks received by a local listener
# that checks every signature, and the alarm rule firing as the anomaly rate passes it.
#
#   samples/ServiceWalkthrough/run.sh [WORKDIR]      (from anywhere; ../shared beside the repository)
#
# PORT (default 5000) and HOOK_PORT (default 9000) say where the service and the listener listen, DEFECT_SHARED where
# the shared data is and DEFECT_CLI which defect.dll runs (default the Release build, built when missing); needs curl,
# jq and python3.
# Prints the outcome and writes it to WORKDIR/outcome.json; exits non-zero when a step fails.
set -euo pipefail
set -m  # background jobs in their own process groups, so that the cleanup stops exactly them
root=$(cd "$(dirname "$0")/../.." && pwd)
shared=${DEFECT_SHARED:-$root/../shared}
cookies=$shared/datasets/lfv-cookies
work=${1:-$(mktemp -d)}
mkdir -p "$work" && cd "$work"
dll=${DEFECT_CLI:-$root/src/DefectDetection.Cli/bin/Release/net10.0/defect.dll}
[ -f "$dll" ] || dotnet build "$root/src/DefectDetection.Cli" -c Release -v q >/dev/null
defect() { dotnet "$dll" "$@"; }
PORT=${PORT:-5000}; HOOK_PORT=${HOOK_PORT:-9000}
URL=http://localhost:$PORT
jobs_started=()
cleanup() { for p in "${jobs_started[@]}"; do kill -- "-$p" 2>/dev/null || true; done; }
trap cleanup EXIT
# waits until a condition holds, at most two minutes
await() { local until=$((SECONDS + 120)); until eval "$1" >/dev/null 2>&1; do
  [ $SECONDS -lt $until ] || { echo "timed out waiting for: $2" >&2; exit 1; }; sleep 0.5; done; }

# 1. A project trained on the cookies (the anomaly task: PatchCore on the 31 normal training images; the 32 labelled
#    anomalies set the threshold).
defect project create --project cookies
defect dataset import --project cookies "$cookies/dataset-files/manifests/template.manifest" --images "$cookies/dataset-files"
defect model train --project cookies --task anomaly --backbone "$shared/models/mobilenetv2-int8/mobilenetv2-int8-qdq.onnx"

# 2. A key (printed once, stored as a SHA-256 hash), a webhook listener that checks signatures, the webhook and the
#    alarm rule (above 20% anomalies over the last 10 images of a line), and the service on the project.
KEY=$(defect serve key create --data cookies/service --scopes ingest,read --name camera-1)
SECRET=a-long-shared-secret
python3 "$root/samples/ServiceWalkthrough/listener.py" --port "$HOOK_PORT" --secret "$SECRET" --out webhooks.jsonl &
jobs_started+=($!)
cat > serve.json <<JSON
{ "webhooks": [ { "url": "http://localhost:$HOOK_PORT/hook", "secret": "$SECRET", "events": ["anomaly", "alarm", "invalid"] } ],
  "alarms": [ { "name": "line-rate", "kind": "anomaly_rate", "scope": "line", "threshold": 20, "last_images": 10 } ] }
JSON
defect serve --project cookies --urls "$URL" --config serve.json > serve.log 2>&1 &
jobs_started+=($!)
await 'curl -sf "$URL/healthz"' "the service to start (serve.log)"

# 3. The 22 test images, posted with curl (8 cracked cookies first, then 14 good ones).
for f in "$cookies"/test-images/*.jpg; do
  curl -sf -H "Authorization: Bearer $KEY" -F file=@"$f" -F line=L1 -F camera=C1 -F idempotencyKey="$(basename "$f")" "$URL/v1/images"; echo
done

# 4. Results and counts read back once every image is judged.
await '[ "$(curl -sf -H "X-Api-Key: $KEY" "$URL/v1/results?line=L1&verdict=pending&limit=500" | jq ".items | length")" = 0 ]' "every image to be judged"
curl -sf -H "X-Api-Key: $KEY" "$URL/v1/results?line=L1&limit=50" > results.json
curl -sf -H "X-Api-Key: $KEY" "$URL/v1/stats?line=L1&bucket=day" > stats.json
jq -r '"results: \(.items | length) (" + (.items | group_by(.verdict) | map("\(length) \(.[0].verdict)") | join(", ")) + ")"' results.json
jq -r '.rows[] | "stats: \(.bucket_start) total \(.total), anomalies \(.anomalies), anomaly_rate \(.anomaly_rate * 100 | round)%"' stats.json

# 5. The webhooks: one per anomaly, the alarm fired (and cleared as the good cookies followed); every signature valid.
anomalies=$(jq '[.items[] | select(.verdict == "anomaly")] | length' results.json)
await '[ "$(jq -s "map(select(.event == \"anomaly\")) | length" webhooks.jsonl)" -ge "$anomalies" ]' "$anomalies anomaly webhooks"
await 'jq -se "any(.[]; .event == \"alarm\" and .body.state == \"fired\")" webhooks.jsonl' "the alarm webhook"
sleep 2  # a later alarm transition (cleared), or anything sent twice, would arrive now
jq -s --slurpfile r results.json --slurpfile s stats.json '{
  results: ($r[0].items | length),
  anomalies: ([$r[0].items[] | select(.verdict == "anomaly")] | length),
  normal: ([$r[0].items[] | select(.verdict == "normal")] | length),
  invalid: ([$r[0].items[] | select(.verdict == "invalid")] | length),
  model_version: ($r[0].items[0].model_version),
  stats: {total: ([$s[0].rows[].total] | add), anomalies: ([$s[0].rows[].anomalies] | add)},
  webhooks: length,
  valid_signatures: ([.[] | select(.valid)] | length),
  anomaly_webhooks: ([.[] | select(.event == "anomaly")] | length),
  alarms: [.[] | select(.event == "alarm") | {state: .body.state, observed: .body.observed}]
}' webhooks.jsonl | tee outcome.json
