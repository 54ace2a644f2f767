#!/usr/bin/env bash
# Tries the packages as a new user would: packs the solution into a local folder feed, creates a fresh console app
# that takes DefectDetection.Vision from that feed (its dependencies from the machine's NuGet sources), runs the
# program in this folder, runs the app's model in a second fresh app through DefectDetection.MLNet (MLNetProgram.cs),
# then installs the `defect` tool from the feed and applies the app's model with it.
# Usage: tools/package-test/run.sh   (exit 0 when every step worked)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
feed="$work/feed"
echo "== pack"
dotnet pack "$root/DefectDetection.Core.sln" -c Release -o "$feed" -v quiet -nologo > "$work/pack.log" 2>&1 || { cat "$work/pack.log"; exit 1; }
ls "$feed"
version=$(ls "$feed" | sed -n 's/^DefectDetection\.Vision\.\(.*\)\.nupkg$/\1/p' | grep -v symbols | head -n 1)
echo "== version $version"
for package in DefectDetection.Imaging DefectDetection.Onnx DefectDetection.Core DefectDetection.Vision DefectDetection.Projects DefectDetection.Cli DefectDetection.MLNet DefectDetection.OnnxRuntime; do
  test -f "$feed/$package.$version.nupkg" || { echo "missing $package.$version.nupkg"; exit 1; }
  test -f "$feed/$package.$version.snupkg" || { echo "missing the symbol package of $package"; exit 1; }
  listing=$(unzip -l "$feed/$package.$version.nupkg")
  grep -q ' README.md$' <<< "$listing" || { echo "$package has no README"; exit 1; }
done

echo "== documentation files"
# The libraries' XML docs describe the public API only, with no <inheritdoc/> left (tools/DocFilter rewrote them);
# the tool package ships none.
dotnet build "$root/tools/DocFilter/DocFilter.csproj" -c Release -o "$work/docfilter" -v quiet -nologo > "$work/docfilter.log" 2>&1 || { cat "$work/docfilter.log"; exit 1; }
mkdir -p "$work/docs"
for package in DefectDetection.Imaging DefectDetection.Onnx DefectDetection.Core DefectDetection.Vision DefectDetection.Projects DefectDetection.MLNet DefectDetection.OnnxRuntime; do
  unzip -q -o "$feed/$package.$version.nupkg" "lib/net10.0/$package.dll" "lib/net10.0/$package.xml" -d "$work/docs/$package"
  dotnet "$work/docfilter/DocFilter.dll" check --assembly "$work/docs/$package/lib/net10.0/$package.dll" --xml "$work/docs/$package/lib/net10.0/$package.xml"
done
if unzip -l "$feed/DefectDetection.Cli.$version.nupkg" | grep -E '\.xml$' | grep -v -E 'DotnetToolSettings\.xml|\[Content_Types\]\.xml'; then
  echo "the tool package ships documentation files"; exit 1
fi

echo "== a fresh console app"
# Its own package folder, so a package of the same version unpacked by an earlier run cannot stand in for this one.
export NUGET_PACKAGES="$work/packages"
app="$work/app"
mkdir -p "$app"
cd "$app"
dotnet new console --framework net10.0 -n App -o . > "$work/new.log" 2>&1 || { cat "$work/new.log"; exit 1; }
# The feed beside the machine's own sources (no URL here: those come from the machine's configuration).
cat > nuget.config <<CONFIG
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="defect-local" value="$feed" />
  </packageSources>
</configuration>
CONFIG
dotnet add package DefectDetection.Vision --version "$version" > "$work/add.log" 2>&1 || { cat "$work/add.log"; exit 1; }
cp "$root/tools/package-test/Program.cs" Program.cs
dotnet run -c Release > "$work/app.log" 2>&1 || { cat "$work/app.log"; exit 1; }
cat "$work/app.log"

echo "== a fresh ML.NET app"
mlapp="$work/mlapp"
mkdir -p "$mlapp"
cd "$mlapp"
dotnet new console --framework net10.0 -n MLApp -o . > "$work/mlnew.log" 2>&1 || { cat "$work/mlnew.log"; exit 1; }
cp "$app/nuget.config" .
dotnet add package DefectDetection.MLNet --version "$version" > "$work/mladd.log" 2>&1 || { cat "$work/mladd.log"; exit 1; }
cp "$root/tools/package-test/MLNetProgram.cs" Program.cs
dotnet run -c Release -- "$app" > "$work/mlapp.log" 2>&1 || { cat "$work/mlapp.log"; exit 1; }
cat "$work/mlapp.log"
cd "$app"

echo "== the defect tool"
dotnet tool install DefectDetection.Cli --version "$version" --tool-path "$work/tools" --add-source "$feed" > "$work/tool-install.log" 2>&1 || { cat "$work/tool-install.log"; exit 1; }
"$work/tools/defect" predict --model parts.ddmodel bad.png --json > "$work/tool.log"
grep -q '"is_defect": true' "$work/tool.log" || { cat "$work/tool.log"; exit 1; }
echo "defect predict: the tool judged bad.png a defect with the app's model"
"$work/tools/defect" generate-boards --count 1 --out "$work/boards" --seed 1 --width 400 --height 300 > "$work/boards.log" 2>&1 || { cat "$work/boards.log"; exit 1; }
ls "$work/boards" | grep -q '\.png$' || { echo "generate-boards wrote no board"; exit 1; }
echo "defect generate-boards: wrote a board"
echo "== packages, app and tool work"
