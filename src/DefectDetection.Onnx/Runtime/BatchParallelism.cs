namespace DefectDetection.Onnx;

/// <summary>How an <see cref="OnnxSession"/> uses its intra-op threads for a batch of inputs.</summary>
public enum BatchParallelism
{
    /// <summary>
    /// When a call's batch (dimension 0 of every input) has at least as many items as there are intra-op threads and
    /// the graph is batch-separable (every operator's output item i depends only on input item i, checked once per
    /// input shape against a conservative list of operators), the batch is cut into contiguous slices, each small
    /// enough for its tensors to stay in a core's cache (one item for 224x224 images) and at most one thread's share;
    /// the threads take slices in turn and run each with one thread inside every operator, so there is no
    /// synchronisation between operators. The results are the same as an unsplit run (integer kernels bit for bit).
    /// Otherwise (one thread, fewer items than threads, a very uneven split such as 3 items on 2 threads, or a graph
    /// that mixes items) every operator uses all threads, as with <see cref="Off"/>.
    /// </summary>
    Auto,

    /// <summary>Every operator of a call uses all intra-op threads; the batch is never split.</summary>
    Off,
}
