using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using DefectDetection.Vision.Anomaly;
using DefectDetection.Vision.PatchCore;
using DefectDetection.Vision.Variation;

namespace DefectDetection.Vision.PatchCore;

/// <summary>
/// Exact nearest-neighbour search of a memory bank, laid out for SIMD. The bank rows are packed in panels of
/// <see cref="Lanes"/> rows, feature-major inside a panel (feature k of the panel's 16 rows is one 64-byte run), with
/// each row's squared norm beside it. A block of <see cref="Block"/> queries is compared with one panel at a time as a
/// small matrix product: per feature, one panel load and one broadcast multiply-add per query, no horizontal sums.
/// The nearest row is chosen on |b|^2 - 2 q.b (|q|^2 is the same for every row), then the returned distance is
/// recomputed from the differences to that row, so it is exactly <see cref="DistanceKernels.SquaredL2"/> of the pair;
/// only rows whose distances differ by less than float rounding of |q| |b| can swap places.
/// </summary>
/// <remarks>
/// Holds a packed copy of the bank beside the row-major one (about the bank's size again). Thread-safe. The bank may be
/// split into groups of consecutive rows (the patches of one training image each); every group then starts a panel of
/// its own, so a search can be limited to some groups (PatchCoreOptions.NearestImages) and still read
/// whole panels.
/// </remarks>
internal sealed class BankSearch
{
    /// <summary>Bank rows per panel (one 512-bit vector of floats).</summary>
    public const int Lanes = 16;

    /// <summary>Queries compared with a panel at once.</summary>
    public const int Block = 8;

    private const int StackFloats = 2048;

    private readonly float[] _bank;
    private readonly float[] _packed;
    private readonly float[] _norms;
    private readonly int[] _groupRows;
    private readonly int[] _groupPanels;
    private readonly int[] _panelRow;
    private readonly int _dim;
    private readonly int _rows;
    private readonly int _panels;
    private readonly int _vectorBits;

    /// <summary>Packs <paramref name="bank"/> (row-major, <paramref name="dim"/> floats a row; kept by reference, not copied).</summary>
    /// <param name="bank">The memory bank; at least one row.</param>
    /// <param name="dim">Features per row.</param>
    /// <param name="vectorBits">Widest vector to use (512, 256, 128, or 0 for the scalar row scan); -1 for the widest the hardware accelerates. Tests lower it to run every path.</param>
    /// <param name="groupStarts">
    /// Optional split of the rows into groups: group g is rows [groupStarts[g], groupStarts[g + 1]), so the array starts
    /// at 0, ends at the row count and never decreases (empty groups allowed). Null: one group of every row.
    /// </param>
    public BankSearch(float[] bank, int dim, int vectorBits = -1, int[]? groupStarts = null)
    {
        ArgumentNullException.ThrowIfNull(bank);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dim);
        if (bank.Length == 0 || bank.Length % dim != 0)
        {
            throw new ArgumentException($"The memory bank holds {bank.Length} floats, not a positive multiple of the {dim} features a row.", nameof(bank));
        }

        _bank = bank;
        _dim = dim;
        _rows = bank.Length / dim;
        _groupRows = groupStarts is null ? [0, _rows] : CheckGroups(groupStarts, _rows);
        int groups = _groupRows.Length - 1;
        _groupPanels = new int[groups + 1];
        for (int g = 0; g < groups; g++)
        {
            _groupPanels[g + 1] = _groupPanels[g] + ((_groupRows[g + 1] - _groupRows[g] + Lanes - 1) / Lanes);
        }

        _panels = _groupPanels[groups];
        _panelRow = new int[_panels];
        for (int g = 0; g < groups; g++)
        {
            for (int p = _groupPanels[g]; p < _groupPanels[g + 1]; p++)
            {
                _panelRow[p] = _groupRows[g] + ((p - _groupPanels[g]) * Lanes);
            }
        }

        _vectorBits = ChooseWidth(vectorBits);
        if (_vectorBits == 0)
        {
            _packed = [];
            _norms = [];
            return;
        }

        // Lanes past a group's last row keep norm +infinity, so they never come out nearest.
        _packed = new float[(long)_panels * dim * Lanes];
        _norms = new float[_panels * Lanes];
        _norms.AsSpan().Fill(float.PositiveInfinity);
        for (int g = 0; g < groups; g++)
        {
            for (int r = _groupRows[g]; r < _groupRows[g + 1]; r++)
            {
                ReadOnlySpan<float> row = bank.AsSpan(r * dim, dim);
                int local = r - _groupRows[g], panelIndex = _groupPanels[g] + (local / Lanes), lane = local % Lanes;
                Span<float> panel = _packed.AsSpan(panelIndex * dim * Lanes, dim * Lanes);
                double norm = 0;
                for (int k = 0; k < dim; k++)
                {
                    panel[(k * Lanes) + lane] = row[k];
                    norm += (double)row[k] * row[k];
                }

                _norms[(panelIndex * Lanes) + lane] = (float)norm;
            }
        }
    }

    private static int[] CheckGroups(int[] starts, int rows)
    {
        if (starts.Length < 2 || starts[0] != 0 || starts[^1] != rows)
        {
            throw new ArgumentException($"Group starts must begin at 0 and end at the {rows} rows of the bank.", nameof(starts));
        }

        for (int g = 1; g < starts.Length; g++)
        {
            if (starts[g] < starts[g - 1])
            {
                throw new ArgumentException($"Group start {g} ({starts[g]}) is below the one before it ({starts[g - 1]}).", nameof(starts));
            }
        }

        return (int[])starts.Clone();
    }

    /// <summary>Rows in the bank.</summary>
    public int Rows => _rows;

    /// <summary>Features per row.</summary>
    public int Dimension => _dim;

    /// <summary>The vector width the search runs at (512, 256, 128 or 0).</summary>
    public int VectorBits => _vectorBits;

    /// <summary>Groups the rows were split into (1 when no split was given).</summary>
    public int Groups => _groupRows.Length - 1;

    /// <summary>
    /// For each of the first <paramref name="queryCount"/> rows of <paramref name="queries"/>, the Euclidean distance to
    /// its nearest bank row, over up to <paramref name="threads"/> threads (blocks of queries per thread; no allocation per query).
    /// </summary>
    public void NearestDistances(float[] queries, int queryCount, float[] distances, int threads, CancellationToken cancellationToken) =>
        NearestDistances(queries, 0, queryCount, distances, threads, default, cancellationToken);

    /// <summary>
    /// For queries <paramref name="firstQuery"/> .. <paramref name="firstQuery"/> + <paramref name="queryCount"/> - 1 of
    /// <paramref name="queries"/>, the Euclidean distance to the nearest row of the chosen <paramref name="groups"/>
    /// (ascending group indices, at least one non-empty group; empty = every row), written at the same indices of
    /// <paramref name="distances"/>.
    /// </summary>
    public void NearestDistances(float[] queries, int firstQuery, int queryCount, float[] distances, int threads, ReadOnlySpan<int> groups, CancellationToken cancellationToken)
    {
        if (firstQuery < 0 || queryCount < 0 || (long)(firstQuery + queryCount) * _dim > queries.Length || firstQuery + queryCount > distances.Length)
        {
            throw new ArgumentException($"Queries {firstQuery} to {firstQuery + queryCount - 1} of {_dim} features do not fit the {queries.Length} query floats or the {distances.Length} distances.");
        }

        int blocks = (queryCount + Block - 1) / Block;
        if (blocks == 0)
        {
            return;
        }

        // The panels (or, for the scalar scan, the rows) to read, as [start, end) pairs with neighbouring groups merged.
        int[] ranges = ArrayPool<int>.Shared.Rent(2 * Math.Max(1, groups.Length));
        try
        {
            int rangeInts = Ranges(groups, _vectorBits == 0 ? _groupRows : _groupPanels, ranges);
            int chunks = Math.Max(1, Math.Min(threads, blocks));
            if (chunks == 1)
            {
                SearchBlocks(queries, firstQuery, queryCount, distances, 0, blocks, ranges, rangeInts, cancellationToken);
                return;
            }

            var po = new ParallelOptions { MaxDegreeOfParallelism = chunks, CancellationToken = cancellationToken };
            Parallel.For(0, chunks, po, c =>
                SearchBlocks(queries, firstQuery, queryCount, distances, (int)((long)blocks * c / chunks), (int)((long)blocks * (c + 1) / chunks), ranges, rangeInts, cancellationToken));
        }
        finally
        {
            ArrayPool<int>.Shared.Return(ranges);
        }
    }

    private int Ranges(ReadOnlySpan<int> groups, int[] starts, int[] ranges)
    {
        int count = _groupRows.Length - 1;
        if (groups.IsEmpty)
        {
            ranges[0] = 0;
            ranges[1] = starts[count];
            return 2;
        }

        int n = 0;
        int previous = -1;
        foreach (int g in groups)
        {
            if (g <= previous || g >= count)
            {
                throw new ArgumentException($"Group {g} is not in [0, {count}) or does not follow group {previous} in ascending order.", nameof(groups));
            }

            if (n > 0 && ranges[n - 1] == starts[g])
            {
                ranges[n - 1] = starts[g + 1];
            }
            else if (starts[g + 1] > starts[g])
            {
                ranges[n++] = starts[g];
                ranges[n++] = starts[g + 1];
            }

            previous = g;
        }

        if (n == 0)
        {
            throw new ArgumentException("Every chosen group is empty: there is no bank row to compare with.", nameof(groups));
        }

        return n;
    }

    private void SearchBlocks(float[] queries, int firstQuery, int queryCount, float[] distances, int firstBlock, int endBlock, int[] ranges, int rangeInts, CancellationToken cancellationToken)
    {
        int blockFloats = Block * _dim;
        float[]? rented = blockFloats > StackFloats ? ArrayPool<float>.Shared.Rent(blockFloats) : null;
        Span<float> padded = rented is null ? stackalloc float[blockFloats] : rented.AsSpan(0, blockFloats);
        Span<int> best = stackalloc int[Block];
        ReadOnlySpan<int> spans = ranges.AsSpan(0, rangeInts);
        try
        {
            for (int b = firstBlock; b < endBlock; b++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int q0 = firstQuery + (b * Block), n = Math.Min(Block, firstQuery + queryCount - q0);
                scoped ReadOnlySpan<float> block;
                if (n < Block)
                {
                    // The last block: zero queries fill it up; their results are not read.
                    padded.Clear();
                    queries.AsSpan(q0 * _dim, n * _dim).CopyTo(padded);
                    block = padded;
                }
                else
                {
                    block = queries.AsSpan(q0 * _dim, blockFloats);
                }

                NearestRows(block, best, spans);
                for (int j = 0; j < n; j++)
                {
                    ReadOnlySpan<float> q = queries.AsSpan((q0 + j) * _dim, _dim);
                    distances[q0 + j] = MathF.Sqrt(DistanceKernels.SquaredL2(q, _bank.AsSpan(best[j] * _dim, _dim)));
                }
            }
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<float>.Shared.Return(rented);
            }
        }
    }

    /// <summary>The nearest bank row of each of the <see cref="Block"/> queries in <paramref name="block"/> (row-major).</summary>
    internal void NearestRows(ReadOnlySpan<float> block, Span<int> best) =>
        NearestRows(block, best, _vectorBits == 0 ? [0, _rows] : [0, _panels]);

    // ranges: [start, end) pairs of panels (of rows for the scalar scan).
    private void NearestRows(ReadOnlySpan<float> block, Span<int> best, ReadOnlySpan<int> ranges)
    {
        switch (_vectorBits)
        {
            case 512:
                Kernel512(block, best, ranges);
                break;
            case 256:
                Kernel256(block, best, ranges);
                Kernel256(block.Slice(4 * _dim), best.Slice(4), ranges);
                break;
            case 128:
                for (int j = 0; j < Block; j += 2)
                {
                    Kernel128(block.Slice(j * _dim), best.Slice(j), ranges);
                }

                break;
            default:
                for (int j = 0; j < Block; j++)
                {
                    float min = float.PositiveInfinity;
                    for (int r = 0; r < ranges.Length; r += 2)
                    {
                        float d = DistanceKernels.Nearest(block.Slice(j * _dim, _dim), _bank.AsSpan(ranges[r] * _dim, (ranges[r + 1] - ranges[r]) * _dim), _dim, out int local);
                        if (d < min || r == 0)
                        {
                            min = d;
                            best[j] = ranges[r] + local;
                        }
                    }
                }

                break;
        }
    }

    private static int ChooseWidth(int requested)
    {
        int hardware = Vector512.IsHardwareAccelerated ? 512 : Vector256.IsHardwareAccelerated ? 256 : Vector128.IsHardwareAccelerated ? 128 : 0;
        int wanted = requested < 0 ? 512 : requested >= 512 ? 512 : requested >= 256 ? 256 : requested >= 128 ? 128 : 0;
        return Math.Min(hardware, wanted);
    }

    // Eight queries against 16-row panels: one accumulator per query.
    private void Kernel512(ReadOnlySpan<float> block, Span<int> bestRow, ReadOnlySpan<int> ranges)
    {
        int dim = _dim;
        ref float q = ref MemoryMarshal.GetReference(block);
        ref float panel = ref MemoryMarshal.GetArrayDataReference(_packed);
        ref float norms = ref MemoryMarshal.GetArrayDataReference(_norms);
        Vector512<float> minus2 = Vector512.Create(-2f);
        Vector512<float> b0 = Vector512.Create(float.PositiveInfinity), b1 = b0, b2 = b0, b3 = b0, b4 = b0, b5 = b0, b6 = b0, b7 = b0;
        Vector512<int> i0 = Vector512<int>.Zero, i1 = i0, i2 = i0, i3 = i0, i4 = i0, i5 = i0, i6 = i0, i7 = i0;
        for (int r = 0; r < ranges.Length; r += 2)
        {
            for (int p = ranges[r]; p < ranges[r + 1]; p++)
            {
                ref float pp = ref Unsafe.Add(ref panel, (nint)p * dim * Lanes);
                Vector512<float> a0 = Vector512<float>.Zero, a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
                for (int k = 0; k < dim; k++)
                {
                    Vector512<float> v = Vector512.LoadUnsafe(ref pp, (nuint)(k * Lanes));
                    a0 = Vector512.MultiplyAddEstimate(v, Vector512.Create(Unsafe.Add(ref q, k)), a0);
                    a1 = Vector512.MultiplyAddEstimate(v, Vector512.Create(Unsafe.Add(ref q, dim + k)), a1);
                    a2 = Vector512.MultiplyAddEstimate(v, Vector512.Create(Unsafe.Add(ref q, (2 * dim) + k)), a2);
                    a3 = Vector512.MultiplyAddEstimate(v, Vector512.Create(Unsafe.Add(ref q, (3 * dim) + k)), a3);
                    a4 = Vector512.MultiplyAddEstimate(v, Vector512.Create(Unsafe.Add(ref q, (4 * dim) + k)), a4);
                    a5 = Vector512.MultiplyAddEstimate(v, Vector512.Create(Unsafe.Add(ref q, (5 * dim) + k)), a5);
                    a6 = Vector512.MultiplyAddEstimate(v, Vector512.Create(Unsafe.Add(ref q, (6 * dim) + k)), a6);
                    a7 = Vector512.MultiplyAddEstimate(v, Vector512.Create(Unsafe.Add(ref q, (7 * dim) + k)), a7);
                }

                Vector512<float> n = Vector512.LoadUnsafe(ref norms, (nuint)(p * Lanes));
                Vector512<int> pi = Vector512.Create(p);
                Keep(Vector512.MultiplyAddEstimate(a0, minus2, n), pi, ref b0, ref i0);
                Keep(Vector512.MultiplyAddEstimate(a1, minus2, n), pi, ref b1, ref i1);
                Keep(Vector512.MultiplyAddEstimate(a2, minus2, n), pi, ref b2, ref i2);
                Keep(Vector512.MultiplyAddEstimate(a3, minus2, n), pi, ref b3, ref i3);
                Keep(Vector512.MultiplyAddEstimate(a4, minus2, n), pi, ref b4, ref i4);
                Keep(Vector512.MultiplyAddEstimate(a5, minus2, n), pi, ref b5, ref i5);
                Keep(Vector512.MultiplyAddEstimate(a6, minus2, n), pi, ref b6, ref i6);
                Keep(Vector512.MultiplyAddEstimate(a7, minus2, n), pi, ref b7, ref i7);
            }
        }

        Span<float> values = stackalloc float[Lanes];
        Span<int> panels = stackalloc int[Lanes];
        bestRow[0] = Reduce(b0, i0, values, panels);
        bestRow[1] = Reduce(b1, i1, values, panels);
        bestRow[2] = Reduce(b2, i2, values, panels);
        bestRow[3] = Reduce(b3, i3, values, panels);
        bestRow[4] = Reduce(b4, i4, values, panels);
        bestRow[5] = Reduce(b5, i5, values, panels);
        bestRow[6] = Reduce(b6, i6, values, panels);
        bestRow[7] = Reduce(b7, i7, values, panels);
    }

    // Four queries against the two 8-row halves of each panel.
    private void Kernel256(ReadOnlySpan<float> block, Span<int> bestRow, ReadOnlySpan<int> ranges)
    {
        int dim = _dim;
        ref float q = ref MemoryMarshal.GetReference(block);
        ref float panel = ref MemoryMarshal.GetArrayDataReference(_packed);
        ref float norms = ref MemoryMarshal.GetArrayDataReference(_norms);
        Vector256<float> minus2 = Vector256.Create(-2f);
        Vector256<float> b0 = Vector256.Create(float.PositiveInfinity), b1 = b0, b2 = b0, b3 = b0, c0 = b0, c1 = b0, c2 = b0, c3 = b0;
        Vector256<int> i0 = Vector256<int>.Zero, i1 = i0, i2 = i0, i3 = i0, j0 = i0, j1 = i0, j2 = i0, j3 = i0;
        for (int r = 0; r < ranges.Length; r += 2)
        {
            for (int p = ranges[r]; p < ranges[r + 1]; p++)
            {
                ref float pp = ref Unsafe.Add(ref panel, (nint)p * dim * Lanes);
                Vector256<float> a0 = Vector256<float>.Zero, a1 = a0, a2 = a0, a3 = a0, h0 = a0, h1 = a0, h2 = a0, h3 = a0;
                for (int k = 0; k < dim; k++)
                {
                    Vector256<float> v = Vector256.LoadUnsafe(ref pp, (nuint)(k * Lanes));
                    Vector256<float> w = Vector256.LoadUnsafe(ref pp, (nuint)((k * Lanes) + 8));
                    Vector256<float> x0 = Vector256.Create(Unsafe.Add(ref q, k)), x1 = Vector256.Create(Unsafe.Add(ref q, dim + k));
                    Vector256<float> x2 = Vector256.Create(Unsafe.Add(ref q, (2 * dim) + k)), x3 = Vector256.Create(Unsafe.Add(ref q, (3 * dim) + k));
                    a0 = Vector256.MultiplyAddEstimate(v, x0, a0);
                    h0 = Vector256.MultiplyAddEstimate(w, x0, h0);
                    a1 = Vector256.MultiplyAddEstimate(v, x1, a1);
                    h1 = Vector256.MultiplyAddEstimate(w, x1, h1);
                    a2 = Vector256.MultiplyAddEstimate(v, x2, a2);
                    h2 = Vector256.MultiplyAddEstimate(w, x2, h2);
                    a3 = Vector256.MultiplyAddEstimate(v, x3, a3);
                    h3 = Vector256.MultiplyAddEstimate(w, x3, h3);
                }

                Vector256<float> n = Vector256.LoadUnsafe(ref norms, (nuint)(p * Lanes)), m = Vector256.LoadUnsafe(ref norms, (nuint)((p * Lanes) + 8));
                Vector256<int> pi = Vector256.Create(p);
                Keep(Vector256.MultiplyAddEstimate(a0, minus2, n), pi, ref b0, ref i0);
                Keep(Vector256.MultiplyAddEstimate(h0, minus2, m), pi, ref c0, ref j0);
                Keep(Vector256.MultiplyAddEstimate(a1, minus2, n), pi, ref b1, ref i1);
                Keep(Vector256.MultiplyAddEstimate(h1, minus2, m), pi, ref c1, ref j1);
                Keep(Vector256.MultiplyAddEstimate(a2, minus2, n), pi, ref b2, ref i2);
                Keep(Vector256.MultiplyAddEstimate(h2, minus2, m), pi, ref c2, ref j2);
                Keep(Vector256.MultiplyAddEstimate(a3, minus2, n), pi, ref b3, ref i3);
                Keep(Vector256.MultiplyAddEstimate(h3, minus2, m), pi, ref c3, ref j3);
            }
        }

        Span<float> values = stackalloc float[Lanes];
        Span<int> panels = stackalloc int[Lanes];
        bestRow[0] = Reduce(Vector512.Create(b0, c0), Vector512.Create(i0, j0), values, panels);
        bestRow[1] = Reduce(Vector512.Create(b1, c1), Vector512.Create(i1, j1), values, panels);
        bestRow[2] = Reduce(Vector512.Create(b2, c2), Vector512.Create(i2, j2), values, panels);
        bestRow[3] = Reduce(Vector512.Create(b3, c3), Vector512.Create(i3, j3), values, panels);
    }

    // Two queries against the four 4-row quarters of each panel.
    private void Kernel128(ReadOnlySpan<float> block, Span<int> bestRow, ReadOnlySpan<int> ranges)
    {
        int dim = _dim;
        ref float q = ref MemoryMarshal.GetReference(block);
        ref float panel = ref MemoryMarshal.GetArrayDataReference(_packed);
        ref float norms = ref MemoryMarshal.GetArrayDataReference(_norms);
        Vector128<float> minus2 = Vector128.Create(-2f);
        Vector128<float> b0 = Vector128.Create(float.PositiveInfinity), b1 = b0, b2 = b0, b3 = b0, c0 = b0, c1 = b0, c2 = b0, c3 = b0;
        Vector128<int> i0 = Vector128<int>.Zero, i1 = i0, i2 = i0, i3 = i0, j0 = i0, j1 = i0, j2 = i0, j3 = i0;
        for (int r = 0; r < ranges.Length; r += 2)
        {
            for (int p = ranges[r]; p < ranges[r + 1]; p++)
            {
                ref float pp = ref Unsafe.Add(ref panel, (nint)p * dim * Lanes);
                Vector128<float> a0 = Vector128<float>.Zero, a1 = a0, a2 = a0, a3 = a0, h0 = a0, h1 = a0, h2 = a0, h3 = a0;
                for (int k = 0; k < dim; k++)
                {
                    nuint at = (nuint)(k * Lanes);
                    Vector128<float> x = Vector128.Create(Unsafe.Add(ref q, k)), y = Vector128.Create(Unsafe.Add(ref q, dim + k));
                    Vector128<float> v0 = Vector128.LoadUnsafe(ref pp, at), v1 = Vector128.LoadUnsafe(ref pp, at + 4);
                    Vector128<float> v2 = Vector128.LoadUnsafe(ref pp, at + 8), v3 = Vector128.LoadUnsafe(ref pp, at + 12);
                    a0 = Vector128.MultiplyAddEstimate(v0, x, a0);
                    a1 = Vector128.MultiplyAddEstimate(v1, x, a1);
                    a2 = Vector128.MultiplyAddEstimate(v2, x, a2);
                    a3 = Vector128.MultiplyAddEstimate(v3, x, a3);
                    h0 = Vector128.MultiplyAddEstimate(v0, y, h0);
                    h1 = Vector128.MultiplyAddEstimate(v1, y, h1);
                    h2 = Vector128.MultiplyAddEstimate(v2, y, h2);
                    h3 = Vector128.MultiplyAddEstimate(v3, y, h3);
                }

                ref float pn = ref Unsafe.Add(ref norms, p * Lanes);
                Vector128<float> n0 = Vector128.LoadUnsafe(ref pn), n1 = Vector128.LoadUnsafe(ref pn, 4), n2 = Vector128.LoadUnsafe(ref pn, 8), n3 = Vector128.LoadUnsafe(ref pn, 12);
                Vector128<int> pi = Vector128.Create(p);
                Keep(Vector128.MultiplyAddEstimate(a0, minus2, n0), pi, ref b0, ref i0);
                Keep(Vector128.MultiplyAddEstimate(a1, minus2, n1), pi, ref b1, ref i1);
                Keep(Vector128.MultiplyAddEstimate(a2, minus2, n2), pi, ref b2, ref i2);
                Keep(Vector128.MultiplyAddEstimate(a3, minus2, n3), pi, ref b3, ref i3);
                Keep(Vector128.MultiplyAddEstimate(h0, minus2, n0), pi, ref c0, ref j0);
                Keep(Vector128.MultiplyAddEstimate(h1, minus2, n1), pi, ref c1, ref j1);
                Keep(Vector128.MultiplyAddEstimate(h2, minus2, n2), pi, ref c2, ref j2);
                Keep(Vector128.MultiplyAddEstimate(h3, minus2, n3), pi, ref c3, ref j3);
            }
        }

        Span<float> values = stackalloc float[Lanes];
        Span<int> panels = stackalloc int[Lanes];
        bestRow[0] = Reduce(Vector512.Create(Vector256.Create(b0, b1), Vector256.Create(b2, b3)), Vector512.Create(Vector256.Create(i0, i1), Vector256.Create(i2, i3)), values, panels);
        bestRow[1] = Reduce(Vector512.Create(Vector256.Create(c0, c1), Vector256.Create(c2, c3)), Vector512.Create(Vector256.Create(j0, j1), Vector256.Create(j2, j3)), values, panels);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Keep(Vector512<float> value, Vector512<int> panel, ref Vector512<float> best, ref Vector512<int> index)
    {
        Vector512<float> less = Vector512.LessThan(value, best);
        best = Vector512.ConditionalSelect(less, value, best);
        index = Vector512.ConditionalSelect(less.AsInt32(), panel, index);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Keep(Vector256<float> value, Vector256<int> panel, ref Vector256<float> best, ref Vector256<int> index)
    {
        Vector256<float> less = Vector256.LessThan(value, best);
        best = Vector256.ConditionalSelect(less, value, best);
        index = Vector256.ConditionalSelect(less.AsInt32(), panel, index);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Keep(Vector128<float> value, Vector128<int> panel, ref Vector128<float> best, ref Vector128<int> index)
    {
        Vector128<float> less = Vector128.LessThan(value, best);
        best = Vector128.ConditionalSelect(less, value, best);
        index = Vector128.ConditionalSelect(less.AsInt32(), panel, index);
    }

    // The row of the smallest of 16 lane minimums (lane l of panel p is bank row _panelRow[p] + l); ties go to the lower row.
    private int Reduce(Vector512<float> best, Vector512<int> panel, Span<float> values, Span<int> panels)
    {
        best.CopyTo(values);
        panel.CopyTo(panels);
        int row = _panelRow[panels[0]];
        float min = values[0];
        for (int l = 1; l < Lanes; l++)
        {
            int r = _panelRow[panels[l]] + l;
            if (values[l] < min || (values[l] == min && r < row))
            {
                min = values[l];
                row = r;
            }
        }

        return row;
    }
}
