using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using DefectDetection.ModelFiles;
using static DefectDetection.Core.Tests.ModelFiles.ModelFileBuilder;

namespace DefectDetection.Core.Tests.ModelFiles;

public class ModelFileLimitsTests
{
    [Theory]
    [InlineData("tensors/unused.f32")]
    [InlineData("notes.txt")]
    [InlineData("backbone.onnx")] // present, but the manifest says no backbone is embedded
    public void EntryTheManifestDoesNotList_IsRefusedNamingIt(string entry)
    {
        ModelFileException ex = LoadFails(Edited((_, e) => e[entry] = new byte[1 << 16]));
        Assert.Equal(entry, ex.Entry);
        Assert.Contains("does not list", ex.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void SeveralUnknownEntries_AreAllNamed()
    {
        ModelFileException ex = LoadFails(Edited((_, e) =>
        {
            e["a.bin"] = [1];
            e["b.bin"] = [2];
        }));
        Assert.Contains("2 entries: 'a.bin', 'b.bin'", ex.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void EntryListedTwiceInTheZip_IsRefused()
    {
        List<(string Name, byte[] Bytes)> entries = Entries(Bytes(Small()));
        ModelFileException ex = LoadFails(Zip([.. entries, entries[0]]));
        Assert.Equal(entries[0].Name, ex.Entry);
        Assert.Contains("twice", ex.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void TensorEntryOfAnotherSizeThanItsShape_IsRefusedBeforeInflating()
    {
        ModelFileException ex = LoadFails(Edited((_, e) => e["tensors/head/bias.f32"] = new byte[12]));
        Assert.Equal("tensors/head/bias.f32", ex.Entry);
        Assert.Contains("declares 12 bytes, but the shape [2] needs 8", ex.Reason, StringComparison.Ordinal);

        // A shape of 1 GiB over an 8-byte entry: refused from the sizes alone.
        ex = LoadFails(Edited((m, _) => m["entries"]![0]!["shape"] = new JsonArray(1 << 28)));
        Assert.Contains("needs 1,073,741,824", ex.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingTensorEntry_IsRefused()
    {
        ModelFileException ex = LoadFails(Edited((_, e) => e.Remove("tensors/head/bias.f32")));
        Assert.Equal("tensors/head/bias.f32", ex.Entry);
        Assert.Contains("missing", ex.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void HighlyCompressedLargeTensor_IsRefusedByTheRatio_AndLoadsWhenAllowed()
    {
        // 16 MiB of zeros deflate to about 16 KiB: a ratio near 1000:1, far above what learned values reach.
        int n = 1 << 22;
        byte[] file = Bytes(new ModelPackage(new ModelManifest(), new Dictionary<string, ModelTensor> { ["bank"] = new([n], new float[n]) }));
        Assert.True(file.Length < n / 100);

        ModelFileException ex = LoadFails(file);
        Assert.Equal("tensors/bank.f32", ex.Entry);
        Assert.Contains("MaxCompressionRatio", ex.Reason, StringComparison.Ordinal);

        ModelPackage back = ModelPackage.Load(new MemoryStream(file), new ModelLoadOptions { MaxCompressionRatio = 5000 });
        Assert.Equal(n, back.GetTensor("bank").Data.Length);
    }

    [Fact]
    public void TinyFileDeclaringAGibibyteTensor_IsRefusedByTheRatioBeforeAllocating()
    {
        // Shape and zip headers agree on 1 GiB; the file holds a few hundred bytes.
        byte[] file = Edited((m, _) => m["entries"]!.AsArray().Single(x => x!["name"]!.GetValue<string>() == "head/bias")!["shape"] = new JsonArray(1 << 28));
        PatchUncompressedSize(file, "tensors/head/bias.f32", 1u << 30);
        Assert.True(file.Length < 4096);

        ModelFileException ex = LoadFails(file);
        Assert.Equal("tensors/head/bias.f32", ex.Entry);
        Assert.Contains("(ModelLoadOptions.MaxCompressionRatio)", ex.Reason, StringComparison.Ordinal);
        ex = LoadFails(file, new ModelLoadOptions { MaxTotalBytes = 1 << 29 });
        Assert.Contains("(ModelLoadOptions.MaxTotalBytes)", ex.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void LargeTensorOfOneValue_BesideLearnedValues_Loads()
    {
        // A variation model whose spread is zero everywhere (identical training images) is legitimate.
        int n = 9 << 18; // 9 MiB per tensor
        Random random = new(1);
        float[] mean = [.. Enumerable.Range(0, n).Select(_ => random.NextSingle() * 255)];
        byte[] file = Bytes(new ModelPackage(new ModelManifest(), new Dictionary<string, ModelTensor> { ["mean"] = new([n], mean), ["spread"] = new([n], new float[n]) }));
        Assert.Equal(n, ModelPackage.Load(new MemoryStream(file)).GetTensor("spread").Data.Length);
    }

    [Fact]
    public void TotalOverTheLimit_IsRefused_AndTheDefaultAllowsIt()
    {
        byte[] file = Bytes(Small());
        ModelFileException ex = LoadFails(file, new ModelLoadOptions { MaxTotalBytes = 100 });
        Assert.Contains("more than the limit of 100 (ModelLoadOptions.MaxTotalBytes)", ex.Reason, StringComparison.Ordinal);
        Assert.Equal(2, ModelPackage.Load(new MemoryStream(file)).Tensors.Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ModelLoadOptions { MaxTotalBytes = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new ModelLoadOptions { MaxCompressionRatio = double.NaN });
    }

    [Fact]
    public void ManifestOverItsLimit_IsRefusedBeforeInflating()
    {
        string json = new string(' ', ModelPackage.MaxManifestBytes) + "{\"format_version\": 1}";
        ModelFileException ex = LoadFails(WithManifestText(json));
        Assert.Equal("manifest.json", ex.Entry);
        Assert.Contains($"more than the limit of {ModelPackage.MaxManifestBytes:N0}", ex.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void EntryWhoseHeaderUnderstatesItsSize_YieldsOnlyTheDeclaredBytes()
    {
        // The manifest and the zip headers say 4 bytes; the compressed data holds 8. Reading stops at the declared size.
        byte[] bias = [.. BitConverter.GetBytes(0.5f), .. BitConverter.GetBytes(-0.5f)];
        byte[] file = Edited((m, _) =>
        {
            JsonNode entry = m["entries"]!.AsArray().Single(x => x!["name"]!.GetValue<string>() == "head/bias")!;
            entry["shape"] = new JsonArray(1);
            entry["sha256"] = Convert.ToHexStringLower(SHA256.HashData(bias.AsSpan(0, 4)));
        });
        PatchUncompressedSize(file, "tensors/head/bias.f32", 4);

        Assert.Equal([0.5f], ModelPackage.Load(new MemoryStream(file)).GetTensor("head/bias").Data);
    }

    [Fact]
    public void EntryWhoseHeaderOverstatesItsSize_IsRefused()
    {
        // The manifest and the zip headers say 16 bytes; the compressed data holds 8.
        byte[] file = Edited((m, _) => m["entries"]!.AsArray().Single(x => x!["name"]!.GetValue<string>() == "head/bias")!["shape"] = new JsonArray(4));
        PatchUncompressedSize(file, "tensors/head/bias.f32", 16);

        ModelFileException ex = LoadFails(file);
        Assert.Contains("tensors/head/bias.f32", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(float.NaN, 0)]
    [InlineData(float.PositiveInfinity, 4)]
    [InlineData(float.NegativeInfinity, 5)]
    public void NonFiniteTensorValue_IsRefusedNamingTensorAndIndex(float bad, int index)
    {
        float[] weights = [1f, 2f, 3f, 4f, 5f, 6f];
        weights[index] = bad;
        byte[] file = Edited((_, e) => e["tensors/head/weights.f32"] = [.. weights.SelectMany(BitConverter.GetBytes)], rehash: true);

        ModelFileException ex = LoadFails(file);
        Assert.Equal("tensors/head/weights.f32", ex.Entry);
        Assert.Contains($"'head/weights' holds {bad.ToString(System.Globalization.CultureInfo.InvariantCulture)} at index {index}", ex.Reason, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => Small(weights).Save(new MemoryStream()));
    }

    [Fact]
    public void IndexOfNonFinite_FindsTheFirstBadValueAtEveryPosition()
    {
        for (int length = 0; length <= 40; length++)
        {
            float[] values = [.. Enumerable.Range(0, length).Select(i => i * 0.5f - 3f)];
            Assert.Equal(-1, ModelPackage.IndexOfNonFinite(values));
            for (int at = 0; at < length; at++)
            {
                float[] copy = (float[])values.Clone();
                copy[at] = at % 2 == 0 ? float.NaN : float.NegativeInfinity;
                copy[^1] = float.PositiveInfinity;
                Assert.Equal(at, ModelPackage.IndexOfNonFinite(copy));
            }
        }

        Assert.Equal(-1, ModelPackage.IndexOfNonFinite([float.MaxValue, float.MinValue, float.Epsilon, -0f]));
    }

    [Fact]
    public void SaveAndLoad_OnStreams_RoundTrip_AlsoWhenTheStreamCannotSeek()
    {
        using MemoryStream ms = new();
        Small().Save(ms);
        Assert.True(ms.CanWrite); // left open
        byte[] file = ms.ToArray();

        ModelPackage back = ModelPackage.Load(new ForwardOnlyStream(file));
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f], back.GetTensor("head/weights").Data);
        Assert.Equal(["normal", "anomaly"], back.Manifest.Labels);

        ModelFileException ex = Assert.Throws<ModelFileException>(() => ModelPackage.Load(new MemoryStream(Encoding.UTF8.GetBytes("not a zip"))));
        Assert.Equal("(stream)", ex.FilePath);
    }

    // Sets an entry's uncompressed size in its local header and in the central directory.
    private static void PatchUncompressedSize(byte[] zip, string entry, uint size)
    {
        byte[] name = Encoding.UTF8.GetBytes(entry);
        int patched = 0;
        for (int i = 0; i + 46 <= zip.Length; i++)
        {
            uint signature = BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(i));
            (int sizeAt, int nameLengthAt, int nameAt) = signature switch
            {
                0x04034b50 => (22, 26, 30),
                0x02014b50 => (24, 28, 46),
                _ => (0, 0, 0),
            };
            if (sizeAt > 0 && BinaryPrimitives.ReadUInt16LittleEndian(zip.AsSpan(i + nameLengthAt)) == name.Length
                && zip.AsSpan(i + nameAt, name.Length).SequenceEqual(name))
            {
                BinaryPrimitives.WriteUInt32LittleEndian(zip.AsSpan(i + sizeAt), size);
                patched++;
            }
        }

        Assert.Equal(2, patched);
    }

    private sealed class ForwardOnlyStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}
