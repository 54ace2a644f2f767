#!/usr/bin/env bash
# Compares DefectDetection.Imaging's JPEG decoder with libjpeg-turbo's djpeg on the benchmark files:
# a 576x768 cookie photo and 4608x3456 baseline (quality 90, 4:2:0) and progressive files that cjpeg
# writes from a mosaic of the cookie photos. Runs are interleaved (djpeg, ours, djpeg, ours, ...) so that
# both see the same machine load; prints median ms, megapixels/s and the speed ratio (ours / djpeg).
# djpeg times include starting the process and writing PPM to /dev/null (about a millisecond or two);
# ours are in-process decode times after warm-up.
# Usage: benchmarks/scripts/jpeg-compare.sh [ROUNDS] (default 7). Needs djpeg/cjpeg (libjpeg-turbo-progs).
set -euo pipefail
ROUNDS="${1:-7}"
PER_ROUND=3
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="${TMPDIR:-/tmp}/defectdetection-jpeg-bench"
command -v djpeg >/dev/null && command -v cjpeg >/dev/null || { echo "djpeg/cjpeg not found (apt-get install libjpeg-turbo-progs)" >&2; exit 1; }

dotnet build "$ROOT/benchmarks/DefectDetection.Benchmarks" -c Release -v quiet -nologo >/dev/null
BENCH=(dotnet "$ROOT/benchmarks/DefectDetection.Benchmarks/bin/Release/net10.0/DefectDetection.Benchmarks.dll" jpeg-compare)
mapfile -t FILES < <("${BENCH[@]}" --generate "$WORK")

SAMPLES="$(mktemp)"
trap 'rm -f "$SAMPLES"' EXIT
for ((r = 0; r < ROUNDS; r++)); do
  for f in "${FILES[@]}"; do
    for ((i = 0; i < PER_ROUND; i++)); do
      start=$EPOCHREALTIME
      djpeg -outfile /dev/null "$f"
      end=$EPOCHREALTIME
      echo "djpeg $f $(echo "($end - $start) * 1000" | bc -l)" >> "$SAMPLES"
    done
    "${BENCH[@]}" --iterations "$PER_ROUND" "$f" | sed 's/^/ours /' >> "$SAMPLES"
  done
done

median() { sort -g | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
printf '%-24s %10s %12s %10s %12s %8s\n' file "djpeg ms" "djpeg MP/s" "ours ms" "ours MP/s" "ratio"
for f in "${FILES[@]}"; do
  mp=$(grep "^ours $f " "$SAMPLES" | head -1 | awk '{print $4}')
  d=$(grep "^djpeg $f " "$SAMPLES" | awk '{print $3}' | median)
  o=$(grep "^ours $f " "$SAMPLES" | awk '{print $3}' | median)
  printf '%-24s %10.1f %12.1f %10.1f %12.1f %8.2f\n' "$(basename "$f")" "$d" "$(echo "$mp / $d * 1000" | bc -l)" \
    "$o" "$(echo "$mp / $o * 1000" | bc -l)" "$(echo "$d / $o" | bc -l)"
done
echo "ratio = djpeg time / our time (above 1: faster than libjpeg-turbo; the target is at least 0.5)."
