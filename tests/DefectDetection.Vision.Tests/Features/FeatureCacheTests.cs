using System.Buffers.Binary;
using DefectDetection.Imaging;
using DefectDetection.Vision.Features;

namespace DefectDetection.Vision.Tests.Features;

public class FeatureCacheTests
{
    /// <summary>A tiny raw format for the tests (the real codecs are tested on their own): width, height, gray bytes.</summary>
    private static byte[] Encode(Image gray)
    {
        byte[] data = new byte[8 + gray.ByteCount];
        BinaryPrimitives.WriteInt32LittleEndian(data, gray.Width);
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(4), gray.Height);
        gray.Pixels.CopyTo(data.AsSpan(8));
        return data;
    }

    private static Image Decode(ReadOnlySpan<byte> data, DecoderOptions options)
    {
        if (data.Length < 8)
        {
            throw new InvalidImageContentException(ImageFormat.Unknown, 0, "too short");
        }

        int w = BinaryPrimitives.ReadInt32LittleEndian(data), h = BinaryPrimitives.ReadInt32LittleEndian(data[4..]);
        return Image.FromPixels(w, h, PixelFormat.Gray8, data[8..]);
    }

    private sealed class CountingExtractor(IFeatureExtractor inner) : IFeatureExtractor
    {
        public int Calls;

        public int FeatureLength => inner.FeatureLength;

        public string Identity => inner.Identity;

        public void Extract(ImageView image, Span<float> destination)
        {
            Interlocked.Increment(ref Calls);
            inner.Extract(image, destination);
        }
    }

    [Fact]
    public void MemoryCache_IsKeyedByContent_AndWritesNoFiles()
    {
        string dir = Path.Combine(Path.GetTempPath(), "ddcache-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            using Image a = GradientHistogramFeatureExtractorTests.Stripes(40, 30, 20, 6, 0);
            using Image b = GradientHistogramFeatureExtractorTests.Stripes(40, 30, 70, 6, 0);
            string pa = Path.Combine(dir, "a.raw"), pa2 = Path.Combine(dir, "copy-of-a.raw"), pb = Path.Combine(dir, "b.raw");
            File.WriteAllBytes(pa, Encode(a));
            File.WriteAllBytes(pa2, Encode(a));
            File.WriteAllBytes(pb, Encode(b));
            string[] before = Directory.GetFileSystemEntries(dir);

            CountingExtractor extractor = new(new GradientHistogramFeatureExtractor());
            FeatureCache cache = new(extractor, null, Decode);
            float[] fa = cache.GetOrExtract(pa);
            float[] fa2 = cache.GetOrExtract(pa2); // same bytes under another name: a hit
            float[] fb = cache.GetOrExtract(pb);
            fa[0] = -1; // callers get copies
            Assert.Equal(fa2.Skip(1), fa.Skip(1));
            Assert.Equal(cache.GetOrExtract(pa), fa2);
            Assert.NotEqual(fa2, fb);
            Assert.Equal(2, extractor.Calls);
            Assert.Equal(2, cache.Count);
            Assert.Equal(2, cache.Hits);
            Assert.Equal(before, Directory.GetFileSystemEntries(dir)); // nothing written

            float[][] many = cache.GetOrExtract([pa, pb, pa2]);
            Assert.Equal(2, extractor.Calls);
            Assert.Equal(fb, many[1]);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void DiskCache_IsUsedOnlyWhenAFolderIsSet_AndSurvivesANewCache()
    {
        string dir = Path.Combine(Path.GetTempPath(), "ddcache-" + Guid.NewGuid().ToString("N"));
        string cacheDir = Path.Combine(dir, "features");
        Directory.CreateDirectory(dir);
        try
        {
            using Image a = GradientHistogramFeatureExtractorTests.Stripes(40, 30, 20, 6, 0);
            byte[] encoded = Encode(a);
            CountingExtractor first = new(new GradientHistogramFeatureExtractor());
            float[] f1 = new FeatureCache(first, new FeatureCacheOptions { Directory = cacheDir }, Decode).GetOrExtract(encoded);
            Assert.Single(Directory.GetFiles(cacheDir));

            CountingExtractor second = new(new GradientHistogramFeatureExtractor());
            float[] f2 = new FeatureCache(second, new FeatureCacheOptions { Directory = cacheDir }, Decode).GetOrExtract(encoded);
            Assert.Equal(0, second.Calls);
            Assert.Equal(f1, f2);

            // A damaged cache file is recomputed and replaced, never trusted.
            string file = Directory.GetFiles(cacheDir)[0];
            File.WriteAllBytes(file, [1, 2, 3]);
            CountingExtractor third = new(new GradientHistogramFeatureExtractor());
            Assert.Equal(f1, new FeatureCache(third, new FeatureCacheOptions { Directory = cacheDir }, Decode).GetOrExtract(encoded));
            Assert.Equal(1, third.Calls);
            Assert.Equal(8 + (4 * f1.Length), new FileInfo(file).Length);

            // Another extractor identity misses.
            CountingExtractor other = new(new GradientHistogramFeatureExtractor(new GradientHistogramOptions { Grid = 2 }));
            new FeatureCache(other, new FeatureCacheOptions { Directory = cacheDir }, Decode).GetOrExtract(encoded);
            Assert.Equal(1, other.Calls);
            Assert.Equal(2, Directory.GetFiles(cacheDir).Length);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void UnreadableImage_NamesTheFile()
    {
        string path = Path.Combine(Path.GetTempPath(), "ddcache-" + Guid.NewGuid().ToString("N") + ".raw");
        File.WriteAllBytes(path, [1, 2]);
        try
        {
            FeatureCache cache = new(new GradientHistogramFeatureExtractor(), null, Decode);
            InvalidImageContentException ex = Assert.Throws<InvalidImageContentException>(() => cache.GetOrExtract(path));
            Assert.Equal(path, ex.FilePath);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
