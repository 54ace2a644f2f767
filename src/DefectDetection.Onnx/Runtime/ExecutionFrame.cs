using System.Runtime.InteropServices;

namespace DefectDetection.Onnx.Runtime;

/// <summary>Layout of one value in a plan.</summary>
internal sealed class ValuePlan
{
    public TensorElementType Type { get; set; }

    public int[] Shape { get; set; } = [];

    public int Length { get; set; }

    public long ByteSize { get; set; }

    public int Offset { get; set; } = -1;

    /// <summary>Lives in the arena (an intermediate, not a graph output, input or constant).</summary>
    public bool InArena { get; set; }

    public int FirstNode { get; set; } = -1;

    public int LastNode { get; set; } = -1;
}

/// <summary>
/// Per-call execution state: the value bindings, the arena and the scratch memory. In planning mode (no plan)
/// every output gets a fresh array and the shapes and scratch sizes are recorded; with a plan, intermediates are
/// bound to fixed arena offsets and nothing is allocated but the graph outputs.
/// </summary>
internal sealed class ExecutionFrame
{
    private readonly ExecutionPlan? _plan;
    private readonly byte[] _arena;
    private byte[] _scratch;
    private readonly List<int> _dirty = [];
    private bool[]? _direct;

    public ExecutionFrame(SessionCore core, ExecutionPlan? plan)
    {
        Core = core;
        _plan = plan;
        Values = new TensorValue[core.ValueCount];
        for (int i = 0; i < Values.Length; i++)
        {
            Values[i] = core.ConstantValues[i] ?? new TensorValue();
        }

        Context = new KernelContext(this);
        if (plan is null)
        {
            _arena = [];
            _scratch = [];
            ScratchRecord = new long[core.Kernels.Length];
            return;
        }

        _arena = GC.AllocateUninitializedArray<byte>(checked((int)plan.ArenaBytes));
        _scratch = GC.AllocateUninitializedArray<byte>(checked((int)plan.ScratchBytes));
        for (int i = 0; i < Values.Length; i++)
        {
            ValuePlan vp = plan.Values[i];
            if (vp.InArena)
            {
                BindArena(i, vp);
            }
        }
    }

    public SessionCore Core { get; }

    public TensorValue[] Values { get; }

    public KernelContext Context { get; }

    /// <summary>True while the frame runs one slice of a split batch: its kernels run on one thread.</summary>
    public bool Serial { get; set; }

    public Threading.IntraOpThreadPool? Pool => Serial ? null : Core.Pool;

    /// <summary>Planning mode: scratch bytes each node asked for.</summary>
    public long[]? ScratchRecord { get; }

    public TensorValue BindOutput(int node, int index, TensorElementType type, ReadOnlySpan<int> shape)
    {
        TensorValue v = Values[index];
        if (_direct is not null && _direct[index])
        {
            if (v.Type == type && shape.SequenceEqual(v.Shape))
            {
                return v;
            }

            // Not the planned shape: a fresh array (the slice runner copies it into the full output).
            _direct[index] = false;
        }

        if (_plan is not null)
        {
            ValuePlan vp = _plan.Values[index];
            if (vp.InArena && vp.Type == type && shape.SequenceEqual(vp.Shape))
            {
                return v;
            }

            if (vp.InArena)
            {
                _dirty.Add(index);
            }
        }

        int length = TensorValue.ElementCount(shape);
        v.Type = type;
        v.Shape = shape.SequenceEqual(v.Shape) ? v.Shape : shape.ToArray();
        v.Data = TensorValue.NewArray(type, length);
        v.ByteOffset = 0;
        v.Length = length;
        return v;
    }

    public Span<T> Scratch<T>(int node, int count)
        where T : unmanaged
    {
        long bytes = ((long)count * System.Runtime.CompilerServices.Unsafe.SizeOf<T>()) + 64;
        if (ScratchRecord is not null)
        {
            ScratchRecord[node] = Math.Max(ScratchRecord[node], bytes);
        }

        if (_scratch.Length < bytes)
        {
            // Planning mode, or a shape the plan did not foresee: grow (this frame only).
            _scratch = GC.AllocateUninitializedArray<byte>(checked((int)bytes));
        }

        return MemoryMarshal.Cast<byte, T>(_scratch.AsSpan(0, checked((int)bytes - 64)))[..count];
    }

    /// <summary>
    /// Binds graph output <paramref name="index"/> to a window of a caller-owned array (a slice of a split batch writes
    /// straight into the full-batch output); the kernel producing it with this type and shape writes there.
    /// </summary>
    public void BindDirect(int index, Array data, TensorElementType type, int[] shape, int byteOffset, int length)
    {
        _direct ??= new bool[Values.Length];
        _direct[index] = true;
        Values[index].BindWindow(data, type, shape, byteOffset, length);
    }

    /// <summary>Ends a <see cref="BindDirect"/> binding (the frame keeps no reference to the caller's array).</summary>
    public void ClearDirect(int index)
    {
        if (_direct is not null)
        {
            _direct[index] = false;
        }

        Values[index].Data = null;
    }

    /// <summary>Restores the arena bindings changed by shape fallbacks during the last call.</summary>
    public void Reset()
    {
        if (_plan is null || _dirty.Count == 0)
        {
            return;
        }

        foreach (int i in _dirty)
        {
            BindArena(i, _plan.Values[i]);
        }

        _dirty.Clear();
    }

    private void BindArena(int i, ValuePlan vp)
    {
        TensorValue v = Values[i];
        v.Type = vp.Type;
        v.Shape = vp.Shape;
        v.Data = _arena;
        v.ByteOffset = vp.Offset;
        v.Length = vp.Length;
    }
}

/// <summary>The memory plan for one input-shape signature, with a pool of frames.</summary>
internal sealed class ExecutionPlan
{
    private readonly Stack<ExecutionFrame> _frames = new();

    public required int[][] InputShapes { get; init; }

    public required ValuePlan[] Values { get; init; }

    public long ArenaBytes { get; init; }

    public long ScratchBytes { get; init; }

    public ExecutionFrame Rent(SessionCore core)
    {
        lock (_frames)
        {
            if (_frames.Count > 0)
            {
                return _frames.Pop();
            }
        }

        return new ExecutionFrame(core, this);
    }

    public void Return(ExecutionFrame frame)
    {
        frame.Reset();
        lock (_frames)
        {
            if (_frames.Count < 8)
            {
                _frames.Push(frame);
            }
        }
    }

    /// <summary>Builds a plan from the shapes recorded in a planning run (liveness-based first-fit arena).</summary>
    public static ExecutionPlan Build(SessionCore core, ExecutionFrame recorded, int[][] inputShapes)
    {
        int n = core.ValueCount;
        var values = new ValuePlan[n];
        for (int i = 0; i < n; i++)
        {
            TensorValue v = recorded.Values[i];
            values[i] = new ValuePlan
            {
                Type = v.Type,
                Shape = v.Shape,
                Length = v.Length,
                ByteSize = (long)v.Length * (v.Data is null ? 0 : OnnxTensor.ElementSize(v.Type)),
            };
        }

        for (int k = 0; k < core.Kernels.Length; k++)
        {
            foreach (int o in core.NodeOutputs[k])
            {
                if (o >= 0 && values[o].FirstNode < 0)
                {
                    values[o].FirstNode = k;
                    values[o].LastNode = k;
                }
            }

            foreach (int i in core.NodeInputs[k])
            {
                if (i >= 0)
                {
                    values[i].LastNode = k;
                }
            }
        }

        var order = new List<int>();
        for (int i = 0; i < n; i++)
        {
            ValuePlan vp = values[i];
            vp.InArena = vp.FirstNode >= 0 && !core.IsOutput[i] && core.ConstantValues[i] is null && recorded.Values[i].Data is not null;
            if (vp.InArena)
            {
                order.Add(i);
            }
        }

        order.Sort((a, b) => values[b].ByteSize.CompareTo(values[a].ByteSize));
        long arena = 0;
        var busy = new List<(long Start, long End)>();
        var placed = new PlacedLifetimes(core.Kernels.Length);
        foreach (int i in order)
        {
            ValuePlan vp = values[i];
            busy.Clear();
            placed.Overlapping(vp.FirstNode, vp.LastNode, busy, values);

            busy.Sort((a, b) => a.Start.CompareTo(b.Start));
            long offset = 0;
            long size = Align(vp.ByteSize);
            foreach ((long s, long e) in busy)
            {
                if (offset + size <= s)
                {
                    break;
                }

                offset = Math.Max(offset, Align(e));
            }

            vp.Offset = checked((int)offset);
            arena = Math.Max(arena, offset + size);
            placed.Add(i, vp);
        }

        long scratch = 0;
        foreach (long s in recorded.ScratchRecord!)
        {
            scratch = Math.Max(scratch, s);
        }

        return new ExecutionPlan { InputShapes = inputShapes, Values = values, ArenaBytes = Math.Max(arena, 64), ScratchBytes = scratch };
    }

    private static long Align(long x) => (x + 63) & ~63L;

    /// <summary>
    /// The values placed so far, indexed by node: those live at each node and those born at each node. Finding the
    /// placed values whose lifetime overlaps [first, last] costs the length of that span plus the values found,
    /// instead of a pass over every placed value (quadratic on graphs of 100,000 nodes and more).
    /// </summary>
    private sealed class PlacedLifetimes(int nodes)
    {
        private readonly List<int>?[] _liveAt = new List<int>?[nodes];
        private readonly List<int>?[] _bornAt = new List<int>?[nodes];

        public void Add(int value, ValuePlan plan)
        {
            for (int t = plan.FirstNode; t <= plan.LastNode; t++)
            {
                (_liveAt[t] ??= []).Add(value);
            }

            (_bornAt[plan.FirstNode] ??= []).Add(value);
        }

        /// <summary>Adds the byte ranges of the placed values overlapping [first, last]: those live at
        /// <paramref name="first"/> and those born after it, up to <paramref name="last"/> (each found once).</summary>
        public void Overlapping(int first, int last, List<(long Start, long End)> busy, ValuePlan[] values)
        {
            foreach (int j in _liveAt[first] ?? [])
            {
                busy.Add((values[j].Offset, values[j].Offset + values[j].ByteSize));
            }

            for (int t = first + 1; t <= last; t++)
            {
                foreach (int j in _bornAt[t] ?? [])
                {
                    busy.Add((values[j].Offset, values[j].Offset + values[j].ByteSize));
                }
            }
        }
    }
}
