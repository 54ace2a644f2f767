using DefectDetection.Onnx;

namespace DefectDetection.OnnxRuntime.Tests;

/// <summary>Reference files and comparison helpers.</summary>
internal static class Agreement
{
    public static float[] ReadFloats(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        float[] values = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, values, 0, values.Length * 4);
        return values;
    }

    /// <summary>The largest difference relative to the reference tensor's largest magnitude.</summary>
    public static double RelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<float> reference)
    {
        Assert.Equal(reference.Length, actual.Length);
        double scale = 0, worst = 0;
        for (int i = 0; i < reference.Length; i++)
        {
            scale = Math.Max(scale, Math.Abs(reference[i]));
            worst = Math.Max(worst, Math.Abs(actual[i] - reference[i]));
        }

        return scale == 0 ? worst : worst / scale;
    }

    public static double MaxAbsDifference(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        Assert.Equal(a.Length, b.Length);
        double worst = 0;
        for (int i = 0; i < a.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(a[i] - b[i]));
        }

        return worst;
    }

    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }

    public static float[] Run(IOnnxSession session, string input, OnnxTensor<float> tensor, string output) =>
        session.Run(new Dictionary<string, OnnxTensor> { [input] = tensor }, [output])[output].As<float>().ToArray();

    public static string MlNetResNet18Path()
    {
        string home = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string path = Path.Combine(home, "microsoft.ml.dnnimagefeaturizer.resnet18", "0.24.0", "tools", "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");
        Assert.True(File.Exists(path), $"ML.NET's ResNet-18 is not at {path} (restore the package Microsoft.ML.DnnImageFeaturizer.ResNet18 0.24.0).");
        return path;
    }
}
