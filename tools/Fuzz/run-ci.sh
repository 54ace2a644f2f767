#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 30) with a fixed seed; exits non-zero if any target crashed.
# Crashing inputs are written to tests/fuzz-corpus/<target>/<sha>.bin and printed. Usage: tools/Fuzz/run-ci.sh [SECONDS]
set -uo pipefail
seconds="${1:-30}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
dotnet build "$root/tools/Fuzz/Fuzz.csproj" -c Release -v quiet -nologo || exit 1
status=0
for target in modelfile manifest pipeline onnx; do
    echo "== fuzz $target for $seconds s"
    if ! dotnet "$root/tools/Fuzz/bin/Release/net10.0/Fuzz.dll" --target "$target" --seconds "$seconds" --seed 1; then
        echo "== fuzz $target: FAILED (see CRASH lines above; a hard crash leaves its input in ${TMPDIR:-/tmp}/defect-fuzz-$target.last)"
        status=1
    fi
done
exit $status
