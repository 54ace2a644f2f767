using System.Security.Cryptography;

namespace DefectDetection.Datasets;

public sealed partial class ImageDataset
{
    /// <summary>
    /// The same images in an order that depends only on what the files hold: by the SHA-256 of each image file's
    /// bytes, then (for identical files) by path, label and mask path in ordinal order. The trainers take a dataset's
    /// images in this order before any choice that depends on order (the held-out images of a threshold, folds,
    /// coreset starts, the reference image), so the same images give the same model whatever order they are listed in
    /// and whatever they are called. Reads every image file once (not decoded).
    /// </summary>
    /// <param name="cancellationToken">Stops the reading early.</param>
    /// <exception cref="FileNotFoundException">An image file does not exist (the message names it and where it was listed).</exception>
    public ImageDataset InContentOrder(CancellationToken cancellationToken = default)
    {
        byte[][] keys = new byte[_items.Length][];
        for (int i = 0; i < _items.Length; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            keys[i] = ContentHash(_items[i]);
        }

        int[] order = [.. Enumerable.Range(0, _items.Length)];
        Array.Sort(order, (a, b) =>
        {
            int c = keys[a].AsSpan().SequenceCompareTo(keys[b]);
            return c != 0 ? c : CompareByPath(_items[a], _items[b]);
        });
        return new ImageDataset(order.Select(i => _items[i]), Labels, IgnoredFiles);
    }

    private static byte[] ContentHash(LabeledImage item)
    {
        if (!File.Exists(item.ImagePath))
        {
            string where = item.Origin is null ? string.Empty : $" (from {item.Origin})";
            throw new FileNotFoundException($"The image file '{item.ImagePath}' does not exist{where}.", item.ImagePath);
        }

        using FileStream stream = new(item.ImagePath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return SHA256.HashData(stream);
    }

    // Path, then label, mask and reference in ordinal order: a total order on what an item describes.
    private static int CompareByPath(LabeledImage a, LabeledImage b)
    {
        int c = string.CompareOrdinal(a.ImagePath, b.ImagePath);
        c = c != 0 ? c : string.CompareOrdinal(a.Label, b.Label);
        c = c != 0 ? c : string.CompareOrdinal(a.MaskPath, b.MaskPath);
        return c != 0 ? c : string.CompareOrdinal(a.ReferencePath, b.ReferencePath);
    }
}
