using System.Buffers.Binary;
using System.Security.Cryptography;
using DefectDetection.Imaging;

namespace DefectDetection.Vision;

/// <summary>
/// The order in which trainers take images given in memory: by a hash of their pixels, so that a model does not
/// depend on the order of the list (datasets use <see cref="Datasets.ImageDataset.InContentOrder"/>, by file bytes).
/// </summary>
internal static class ContentOrder
{
    /// <summary>
    /// Indices of <paramref name="images"/> sorted by the SHA-256 of each image's size, pixel format and pixels;
    /// identical images (whose order changes nothing) by index.
    /// </summary>
    public static int[] Of(IReadOnlyList<ImageView> images)
    {
        byte[][] keys = new byte[images.Count][];
        for (int i = 0; i < keys.Length; i++)
        {
            keys[i] = Hash(images[i]);
        }

        int[] order = [.. Enumerable.Range(0, keys.Length)];
        Array.Sort(order, (a, b) =>
        {
            int c = keys[a].AsSpan().SequenceCompareTo(keys[b]);
            return c != 0 ? c : a.CompareTo(b);
        });
        return order;
    }

    private static byte[] Hash(ImageView image)
    {
        using IncrementalHash hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteInt32LittleEndian(header, image.Width);
        BinaryPrimitives.WriteInt32LittleEndian(header[4..], image.Height);
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], (int)image.PixelFormat);
        hash.AppendData(header);
        for (int y = 0; y < image.Height; y++)
        {
            hash.AppendData(image.GetRow(y));
        }

        return hash.GetHashAndReset();
    }
}
