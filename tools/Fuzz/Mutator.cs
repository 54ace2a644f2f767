using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DefectDetection.Fuzzing;

/// <summary>
/// Byte-level mutations (bit flips, byte changes, inserts, deletes, truncation, duplication, splicing, interesting
/// integers) plus structure-aware ones for JSON (values replaced by null, "1", true, huge numbers, deep nesting; fields
/// added or removed), for lines (one line mutated, lines dropped or repeated) and for zips (entries mutated, added,
/// removed, renamed, then zipped again).
/// </summary>
internal sealed class Mutator(FuzzTarget target, Random random)
{
    private const int MaxInput = 1 << 20;
    private const string DeepMarker = "\u0001deep\u0001";

    private static readonly long[] Interesting =
        [0, 1, -1, 2, 16, 64, 127, 128, 255, 256, 0x7FFF, 0x8000, 0xFFFF, 0x10000, int.MaxValue, int.MinValue, uint.MaxValue, 1L << 32, long.MaxValue, long.MinValue];

    private static readonly string[] EntryNames =
        ["manifest.json", "backbone.onnx", "tensors/extra.f32", "tensors/../evil.f32", "/abs.f32", "tensors/mean.f32", "notes.txt", "tensors/", ""];

    public byte[] Mutate(byte[] input, IReadOnlyList<byte[]> pool)
    {
        byte[] current = input;
        int steps = 1 + random.Next(3);
        for (int i = 0; i < steps; i++)
        {
            byte[]? structured = null;
            try
            {
                structured = random.Next(3) == 0 ? null : target.Kind switch
                {
                    InputKind.Json => MutateJson(current),
                    InputKind.Lines => MutateLines(current),
                    InputKind.Zip => MutateZip(current, pool),
                    _ => null,
                };
            }
            catch (Exception e) when (e is InvalidOperationException or JsonException or ArgumentException or KeyNotFoundException or FormatException)
            {
                // The input is too broken for this structure (invalid UTF-8 in a string, a value of another kind).
            }

            current = structured ?? MutateBytes(current, pool);
        }

        return current.Length > MaxInput ? current[..MaxInput] : current;
    }

    public byte[] MutateBytes(byte[] input, IReadOnlyList<byte[]> pool)
    {
        List<byte> b = [.. input];
        switch (random.Next(9))
        {
            case 0 when b.Count > 0: // bit flip
                b[random.Next(b.Count)] ^= (byte)(1 << random.Next(8));
                break;
            case 1 when b.Count > 0: // random byte
                b[random.Next(b.Count)] = (byte)random.Next(256);
                break;
            case 2: // insert random bytes
                b.InsertRange(random.Next(b.Count + 1), Enumerable.Range(0, 1 + random.Next(8)).Select(_ => (byte)random.Next(256)));
                break;
            case 3 when b.Count > 0: // delete a range
                int at = random.Next(b.Count);
                b.RemoveRange(at, Math.Min(b.Count - at, 1 + random.Next(16)));
                break;
            case 4 when b.Count > 0: // truncate
                int keep = random.Next(b.Count);
                b.RemoveRange(keep, b.Count - keep);
                break;
            case 5 when b.Count > 0: // duplicate a range
                int from = random.Next(b.Count), length = Math.Min(b.Count - from, 1 + random.Next(64));
                b.InsertRange(random.Next(b.Count + 1), b.GetRange(from, length));
                break;
            case 6 when pool.Count > 0: // splice with another input
                byte[] other = pool[random.Next(pool.Count)];
                int cut = random.Next(b.Count + 1), otherCut = random.Next(other.Length + 1);
                b.RemoveRange(cut, b.Count - cut);
                b.AddRange(other.AsSpan(otherCut).ToArray());
                break;
            case 7 when b.Count > 0: // interesting integer, 1, 2, 4 or 8 bytes, either byte order
                long value = Interesting[random.Next(Interesting.Length)];
                int size = 1 << random.Next(4);
                byte[] bytes = new byte[8];
                if (random.Next(2) == 0)
                {
                    BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
                    bytes = bytes[..size];
                }
                else
                {
                    BinaryPrimitives.WriteInt64BigEndian(bytes, value);
                    bytes = bytes[(8 - size)..];
                }

                int pos = random.Next(b.Count);
                for (int i = 0; i < size && pos + i < b.Count; i++)
                {
                    b[pos + i] = bytes[i];
                }

                break;
            default: // interesting ASCII at a random place
                string[] words = ["null", "\"1\"", "true", "1e999", "-1", "NaN", "{", "[", "\"", ",", "\\u0000", "\n", "\"\"", "9999999999"];
                b.InsertRange(random.Next(b.Count + 1), Encoding.UTF8.GetBytes(words[random.Next(words.Length)]));
                break;
        }

        return [.. b];
    }

    public byte[]? MutateJson(byte[] input)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(input, documentOptions: new JsonDocumentOptions { MaxDepth = 256, AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException)
        {
            return null;
        }

        if (root is null)
        {
            return null;
        }

        List<JsonNode> nodes = [];
        Collect(root, nodes);
        JsonNode pick = nodes[random.Next(nodes.Count)];
        int choice = random.Next(20);
        if (choice == 0 && pick is JsonObject add)
        {
            add["unknown_" + random.Next(100)] = random.Next(2) == 0 ? 1 : new JsonObject();
        }
        else if (choice == 1 && pick.Parent is JsonObject owner)
        {
            owner.Remove(pick.GetPropertyName());
        }
        else if (choice == 2 && pick.Parent is JsonArray array)
        {
            array.Insert(array.IndexOf(pick), pick.DeepClone());
        }
        else
        {
            JsonNode? replacement = random.Next(18) switch
            {
                0 => null,
                1 => "1",
                2 => true,
                3 => 1e308,
                4 => -1,
                5 => 2147483648L,
                6 => 0,
                7 => new string('A', 1 + random.Next(100_000)),
                8 => DeepMarker,
                9 => "NaN",
                10 => new JsonArray(),
                11 => new JsonObject(),
                12 => int.MinValue,
                13 => "../../../../etc/passwd",
                14 => new JsonArray([.. Enumerable.Range(0, random.Next(5000)).Select(i => (JsonNode)JsonValue.Create(i))]),
                15 => nodes[random.Next(nodes.Count)].DeepClone(),
                16 => 1.5,
                _ => "s3://bucket/x/../../y.png",
            };
            if (pick.Parent is null)
            {
                root = replacement;
            }
            else
            {
                pick.ReplaceWith(replacement);
            }
        }

        string text = root?.ToJsonString() ?? "null";
        if (text.Contains("\\u0001deep\\u0001", StringComparison.Ordinal))
        {
            int depth = random.Next(2) == 0 ? 65 + random.Next(200) : 1000 + random.Next(100_000);
            text = text.Replace("\"\\u0001deep\\u0001\"", new string('[', depth) + new string(']', depth), StringComparison.Ordinal);
        }

        return Encoding.UTF8.GetBytes(text);
    }

    public byte[]? MutateLines(byte[] input)
    {
        List<string> lines = [.. Encoding.UTF8.GetString(input).Split('\n')];
        int i = random.Next(lines.Count);
        switch (random.Next(5))
        {
            case 0:
                lines.RemoveAt(i);
                break;
            case 1:
                lines.Insert(i, lines[random.Next(lines.Count)]);
                break;
            case 2:
                lines.Insert(i, random.Next(2) == 0 ? "" : "\"unterminated,\"\",x");
                break;
            default:
                if (MutateJson(Encoding.UTF8.GetBytes(lines[i])) is { } json)
                {
                    lines[i] = Encoding.UTF8.GetString(json).Replace('\n', ' ');
                }
                else
                {
                    lines[i] = Encoding.UTF8.GetString(MutateBytes(Encoding.UTF8.GetBytes(lines[i]), []));
                }

                break;
        }

        return Encoding.UTF8.GetBytes(string.Join('\n', lines));
    }

    public byte[]? MutateZip(byte[] input, IReadOnlyList<byte[]> pool)
    {
        List<(string Name, byte[] Bytes)> entries = [];
        try
        {
            using ZipArchive zip = new(new MemoryStream(input, writable: false), ZipArchiveMode.Read);
            foreach (ZipArchiveEntry e in zip.Entries)
            {
                if (e.Length > MaxInput || entries.Count > 64)
                {
                    return null;
                }

                using Stream s = e.Open();
                using MemoryStream ms = new();
                s.CopyTo(ms);
                entries.Add((e.FullName, ms.ToArray()));
            }
        }
        catch (Exception e) when (e is InvalidDataException or IOException or ArgumentException or NotSupportedException)
        {
            return null;
        }

        int i = entries.Count == 0 ? -1 : random.Next(entries.Count);
        switch (random.Next(8))
        {
            case 0: // add an entry
                entries.Add((EntryNames[random.Next(EntryNames.Length)], random.Next(3) == 0 ? new byte[(1 << 20) + random.Next(1 << 21)] : MutateBytes([], pool)));
                break;
            case 1 when i >= 0:
                entries.RemoveAt(i);
                break;
            case 2 when i >= 0:
                entries[i] = (EntryNames[random.Next(EntryNames.Length)], entries[i].Bytes);
                break;
            case 3 when i >= 0:
                entries.Add(entries[i]);
                break;
            default:
                if (i >= 0)
                {
                    (string name, byte[] bytes) = entries[i];
                    entries[i] = (name, (name.EndsWith(".json", StringComparison.Ordinal) ? MutateJson(bytes) : null) ?? MutateBytes(bytes, pool));
                }

                break;
        }

        if (random.Next(2) == 0)
        {
            target.Repair(entries, random);
        }

        using MemoryStream output = new();
        using (ZipArchive zip = new(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            CompressionLevel level = random.Next(4) == 0 ? CompressionLevel.NoCompression : CompressionLevel.Fastest;
            foreach ((string name, byte[] bytes) in entries)
            {
                using Stream s = zip.CreateEntry(name, level).Open();
                s.Write(bytes);
            }
        }

        return output.ToArray();
    }

    private static void Collect(JsonNode node, List<JsonNode> nodes)
    {
        if (nodes.Count > 4000)
        {
            return;
        }

        nodes.Add(node);
        IEnumerable<JsonNode?> children = node switch
        {
            JsonObject o => o.Select(p => p.Value),
            JsonArray a => a,
            _ => [],
        };
        foreach (JsonNode? child in children)
        {
            if (child is not null)
            {
                Collect(child, nodes);
            }
        }
    }
}
