using DefectDetection.Testing;

namespace DefectDetection.Onnx.Tests.Models;

/// <summary>The int8 MobileNetV2 session and input the per-layer timing reports share.</summary>
internal static class PerfSession
{
    /// <summary>
    /// A session on mobilenetv2-int8-qdq with batch and threads from DEFECT_ONNX_PERF_BATCH / DEFECT_ONNX_PERF_THREADS
    /// (default 1 / 1), and a deterministic random input of that batch.
    /// </summary>
    internal static (InferenceSession Session, Dictionary<string, Tensor> Feeds) MobileNetV2Int8()
    {
        int batch = int.TryParse(Environment.GetEnvironmentVariable("DEFECT_ONNX_PERF_BATCH"), out int b) ? b : 1;
        int threads = int.TryParse(Environment.GetEnvironmentVariable("DEFECT_ONNX_PERF_THREADS"), out int t) ? t : 1;
        var session = new InferenceSession(SharedData.PathOf("models", "mobilenetv2-int8", "mobilenetv2-int8-qdq.onnx"), new SessionOptions { IntraOpThreads = threads });
        var input = new DenseTensor<float>([batch, 3, 224, 224]);
        var rng = new Random(1);
        for (int i = 0; i < input.Length; i++)
        {
            input.Span[i] = (float)rng.NextDouble();
        }

        return (session, new Dictionary<string, Tensor> { ["input"] = input });
    }
}
