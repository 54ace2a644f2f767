namespace DefectDetection.Onnx;

/// <summary>How an <see cref="InferenceSession"/> uses its intra-op threads for a batch of inputs.</summary>
public enum BatchParallelism
{
    /// <summary>
    /// When a call's batch (dimension 0 of every input) has at least as many items as there are intra-op threads and
    /// the graph is batch-separable (every operator's output item i depends only on input item i, checked once per
    /// input shape against a conservative list of operators), the batch is cut into one contiguous slice per thread
    /// and each slice runs on its own thread with one thread inside each operator. The results are the same as an
    /// unsplit run (integer kernels bit for bit). Otherwise every operator uses all threads, as with
    /// <see cref="Off"/>.
    /// </summary>
    Auto,

    /// <summary>Every operator of a call uses all intra-op threads; the batch is never split.</summary>
    Off,
}
