using System.Collections.Concurrent;
using DefectDetection.Imaging;
using DefectDetection.Pipeline;

namespace DefectDetection.Core.Tests.Pipeline;

/// <summary>A test classifier: a crop is defective when its mean grey level is above <paramref name="threshold"/>; records the crops it saw.</summary>
internal sealed class BrightnessClassifier(CropSize? size, string defectLabel = "bright", double threshold = 128) : ICropClassifier
{
    public ConcurrentBag<(int W, int H, double Mean)> Seen { get; } = [];

    public CropSize? InputSize => size;

    public IReadOnlyList<CropVerdict> Classify(IReadOnlyList<ImageView> crops, CancellationToken cancellationToken = default)
    {
        List<CropVerdict> verdicts = [];
        foreach (ImageView crop in crops)
        {
            double sum = 0;
            for (int y = 0; y < crop.Height; y++)
            {
                foreach (byte b in crop.GetRow(y))
                {
                    sum += b;
                }
            }

            double mean = sum / ((long)crop.Width * crop.Height * crop.Channels);
            Seen.Add((crop.Width, crop.Height, mean));
            bool defect = mean > threshold;
            verdicts.Add(new CropVerdict(defect ? defectLabel : "ok", defect, (float)(mean / 255), (float)mean));
        }

        return verdicts;
    }
}
