using DefectDetection.Onnx.Runtime.Threading;

namespace DefectDetection.Onnx.Runtime;

/// <summary>
/// The batch split for one input-shape signature: contiguous slices of the batch, each with the memory plan of its
/// shapes, and the full-batch output shapes; or the reason the graph is not separable for these shapes.
/// </summary>
internal sealed class BatchSplitPlan
{
    public required int[][] InputShapes { get; init; }

    /// <summary>Null when the batch is split; otherwise why it is not.</summary>
    public string? Reason { get; init; }

    public bool Separable => Reason is null;

    /// <summary>The slices' first items and item counts (contiguous, covering the batch).</summary>
    public int[] Starts { get; init; } = [];

    public int[] Counts { get; init; } = [];

    public int SliceCount => Counts.Length;

    /// <summary>Each slice's memory plan (slices of the same size share one).</summary>
    public ExecutionPlan[] Plans { get; init; } = [];

    public int[] InputItemElements { get; init; } = [];

    public int[][] OutputShapes { get; init; } = [];

    public TensorElementType[] OutputTypes { get; init; } = [];

    public int[] OutputItemElements { get; init; } = [];
}

/// <summary>Batch parallelism: slices of the batch run side by side on the intra-op threads, each with one thread per operator.</summary>
internal sealed partial class SessionCore
{
    private const int MaxSplits = 16;

    private readonly List<BatchSplitPlan> _splits = [];

    public BatchParallelism BatchParallelism { get; }

    /// <summary>
    /// The least share of the threads' time that an uneven split keeps busy (items over threads times the largest
    /// slice); below it the batch is not split. 5 items on 2 threads: 5 / 6.
    /// </summary>
    public double MinSplitEfficiency { get; set; } = 0.8;

    /// <summary>
    /// Working-set budget of one slice (its arena and scratch), in bytes: slices hold as many items as fit (at least
    /// one, at most a thread's share), so that a slice's tensors stay in a core's cache. The slices are handed to the
    /// threads dynamically. Default: 1 MiB, about one core's L2 cache.
    /// </summary>
    public long SliceBudgetBytes { get; set; } = 1 << 20;

    /// <summary>The split decided for an input-shape signature already run (diagnostics and tests); null when none was considered.</summary>
    public BatchSplitPlan? SplitFor(params int[][] inputShapes)
    {
        lock (_planLock)
        {
            return _splits.Find(p => SameShapes(p.InputShapes, inputShapes));
        }
    }

    private static bool SameShapes(int[][] a, int[][] b)
    {
        if (a.Length != b.Length)
        {
            return false;
        }

        for (int i = 0; i < a.Length; i++)
        {
            if (!a[i].AsSpan().SequenceEqual(b[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static bool Match(int[][] shapes, OnnxTensor[] inputs)
    {
        for (int i = 0; i < inputs.Length; i++)
        {
            if (!inputs[i].Dimensions.SequenceEqual(shapes[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The batch size when this call may be split (every input batched alike, enough items), else 0.</summary>
    private int SplittableBatch(OnnxTensor[] inputs, int threads)
    {
        if (inputs.Length == 0 || InputIndices.Length != inputs.Length)
        {
            return 0;
        }

        int n = inputs[0].Rank > 0 ? inputs[0].Dimensions[0] : 0;
        foreach (OnnxTensor t in inputs)
        {
            if (t.Rank == 0 || t.Dimensions[0] != n)
            {
                return 0;
            }
        }

        if (n < threads || n < 2)
        {
            return 0;
        }

        int largest = (n + threads - 1) / threads;
        return n >= MinSplitEfficiency * threads * largest ? n : 0;
    }

    private bool TryExecuteSplit(OnnxTensor[] inputs, OnnxTensor?[] results, CancellationToken cancellationToken)
    {
        if (Pool is not { } pool || BatchParallelism != BatchParallelism.Auto)
        {
            return false;
        }

        int threads = pool.DegreeOfParallelism;
        int n = SplittableBatch(inputs, threads);
        if (n == 0)
        {
            return false;
        }

        BatchSplitPlan? split = null;
        bool full;
        lock (_planLock)
        {
            foreach (BatchSplitPlan p in _splits)
            {
                if (Match(p.InputShapes, inputs))
                {
                    split = p;
                    break;
                }
            }

            full = _splits.Count >= MaxSplits;
        }

        if (split is null && full)
        {
            return false; // too many shapes seen: new ones run whole rather than being planned on every call
        }

        split ??= CreateSplit(inputs, n, threads, cancellationToken);
        if (!split.Separable)
        {
            return false;
        }

        for (int i = 0; i < results.Length; i++)
        {
            results[i] = OnnxTensor.Create(split.OutputTypes[i], split.OutputShapes[i]);
        }

        var work = new SliceWork(this, split, inputs, results, cancellationToken);
        pool.ParallelFor(split.SliceCount, ref work);
        return true;
    }

    /// <summary>Plans the slices (a planning run per slice size not seen yet) and checks separability.</summary>
    private BatchSplitPlan CreateSplit(OnnxTensor[] inputs, int n, int threads, CancellationToken cancellationToken)
    {
        int[][] shapes = inputs.Select(t => t.Shape).ToArray();

        // The slice size: as many items as fit the budget (measured on a one-item plan), at most a thread's share.
        int perThread = (n + threads - 1) / threads;
        ExecutionPlan? single = SlicePlan(inputs, 1, cancellationToken, out string? reason);
        int size = perThread;
        if (single is not null)
        {
            reason = BatchSeparability.Check(this, single.Values, 1);
            size = (int)Math.Clamp(SliceBudgetBytes / Math.Max(1, single.ArenaBytes + single.ScratchBytes), 1, perThread);
        }

        // Each thread's share in as many slices as the budget needs; sizes differ by at most one item (16 items on 2
        // threads with room for 6: 4 slices of 4).
        int slices = Math.Min(n, threads * ((perThread + size - 1) / size));
        var starts = new int[slices];
        var counts = new int[slices];
        for (int s = 0, start = 0; s < slices; s++)
        {
            counts[s] = (n / slices) + (s < n % slices ? 1 : 0);
            starts[s] = start;
            start += counts[s];
        }

        var plans = new ExecutionPlan[slices];
        for (int s = 0; s < slices && reason is null; s++)
        {
            int same = Array.IndexOf(counts, counts[s]);
            if (same < s)
            {
                plans[s] = plans[same];
                continue;
            }

            ExecutionPlan? plan = counts[s] == 1 ? single : SlicePlan(inputs, counts[s], cancellationToken, out reason);
            if (plan is not null)
            {
                plans[s] = plan;
                reason = BatchSeparability.Check(this, plan.Values, counts[s]);
            }
        }

        var outputShapes = new int[OutputIndices.Length][];
        var outputTypes = new TensorElementType[OutputIndices.Length];
        var outputItems = new int[OutputIndices.Length];
        for (int o = 0; o < OutputIndices.Length && reason is null; o++)
        {
            ValuePlan first = plans[0].Values[OutputIndices[o]];
            outputTypes[o] = first.Type;
            outputShapes[o] = [n, .. first.Shape.AsSpan(1)];
            outputItems[o] = first.Length / counts[0];
            foreach (ExecutionPlan p in plans)
            {
                ValuePlan v = p.Values[OutputIndices[o]];
                if (v.Type != first.Type || !v.Shape.AsSpan(1).SequenceEqual(first.Shape.AsSpan(1)))
                {
                    reason = "an output's item shape depends on the slice size";
                }
            }
        }

        var split = reason is null
            ? new BatchSplitPlan
            {
                InputShapes = shapes,
                Starts = starts,
                Counts = counts,
                Plans = plans,
                InputItemElements = inputs.Select(t => checked((int)(t.Length / n))).ToArray(),
                OutputShapes = outputShapes,
                OutputTypes = outputTypes,
                OutputItemElements = outputItems,
            }
            : new BatchSplitPlan { InputShapes = shapes, Reason = reason };
        lock (_planLock)
        {
            if (_splits.Count < MaxSplits && !_splits.Exists(p => SameShapes(p.InputShapes, shapes)))
            {
                _splits.Add(split);
            }
        }

        return split;
    }

    /// <summary>The memory plan for the first <paramref name="count"/> items (a planning run if there is none yet).</summary>
    private ExecutionPlan? SlicePlan(OnnxTensor[] inputs, int count, CancellationToken cancellationToken, out string? reason)
    {
        reason = null;
        int[][] shapes = inputs.Select(t => (int[])[count, .. t.Dimensions[1..]]).ToArray();
        lock (_planLock)
        {
            ExecutionPlan? existing = _plans.Find(p => SameShapes(p.InputShapes, shapes));
            if (existing is not null)
            {
                return existing;
            }
        }

        // Planned as the slices run (one thread per operator), so that the recorded scratch sizes fit them.
        var frame = new ExecutionFrame(this, null) { Serial = true };
        for (int i = 0; i < inputs.Length; i++)
        {
            OnnxTensor t = inputs[i];
            frame.Values[InputIndices[i]].BindWindow(t.Buffer, t.ElementType, shapes[i], 0, checked((int)(t.Length / t.Dimensions[0] * count)));
        }

        try
        {
            RunNodes(frame, cancellationToken);
        }
        catch (OnnxModelException e)
        {
            // The whole batch runs next and reports its own error, if any.
            reason = "a slice fails: " + e.Message;
            return null;
        }

        ExecutionPlan plan = ExecutionPlan.Build(this, frame, shapes);
        lock (_planLock)
        {
            if (_plans.Count < 16)
            {
                _plans.Add(plan);
            }
        }

        return plan;
    }

    /// <summary>Runs slice <paramref name="s"/> on a pooled frame with one thread per operator, writing into the full outputs.</summary>
    private void RunSlice(BatchSplitPlan split, int s, OnnxTensor[] inputs, OnnxTensor?[] results, CancellationToken cancellationToken)
    {
        ExecutionPlan plan = split.Plans[s];
        int start = split.Starts[s], count = split.Counts[s];
        ExecutionFrame frame = plan.Rent(this);
        frame.Serial = true;
        try
        {
            for (int i = 0; i < inputs.Length; i++)
            {
                OnnxTensor t = inputs[i];
                int item = split.InputItemElements[i];
                frame.Values[InputIndices[i]].BindWindow(t.Buffer, t.ElementType, plan.InputShapes[i], checked(start * item * OnnxTensor.ElementSize(t.ElementType)), count * item);
            }

            for (int o = 0; o < OutputIndices.Length; o++)
            {
                OnnxTensor r = results[o]!;
                int item = split.OutputItemElements[o];
                frame.BindDirect(OutputIndices[o], r.Buffer, r.ElementType, plan.Values[OutputIndices[o]].Shape, checked(start * item * OnnxTensor.ElementSize(r.ElementType)), count * item);
            }

            RunNodes(frame, cancellationToken);
            for (int o = 0; o < OutputIndices.Length; o++)
            {
                TensorValue v = frame.Values[OutputIndices[o]];
                OnnxTensor r = results[o]!;
                int item = split.OutputItemElements[o];
                int offset = start * item * OnnxTensor.ElementSize(r.ElementType);
                if (!ReferenceEquals(v.Data, r.Buffer) || v.ByteOffset != offset)
                {
                    // A kernel produced the output elsewhere (not the planned shape): copy it in if it fits.
                    if (v.Type != r.ElementType || v.Length != count * item || v.Data is null)
                    {
                        throw new OnnxModelException($"Output '{OutputNames[o]}' of a batch slice has shape [{string.Join(",", v.Shape)}], not the planned one.");
                    }

                    v.Bytes().CopyTo(r.ByteSpan()[offset..]);
                }
            }
        }
        finally
        {
            frame.Serial = false;
            foreach (int o in OutputIndices)
            {
                frame.ClearDirect(o);
            }

            plan.Return(frame);
        }
    }

    private readonly struct SliceWork(SessionCore core, BatchSplitPlan split, OnnxTensor[] inputs, OnnxTensor?[] results, CancellationToken cancellationToken) : IParallelWork
    {
        public void Run(int start, int end)
        {
            for (int s = start; s < end; s++)
            {
                core.RunSlice(split, s, inputs, results, cancellationToken);
            }
        }
    }
}
