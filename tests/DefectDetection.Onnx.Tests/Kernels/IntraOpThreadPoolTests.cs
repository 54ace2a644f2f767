using DefectDetection.Onnx.Runtime.Threading;

namespace DefectDetection.Onnx.Tests.Kernels;

public sealed class IntraOpThreadPoolTests
{
    private struct HitWork : IParallelWork
    {
        public int[] Hits;

        public readonly void Run(int start, int end)
        {
            for (int i = start; i < end; i++)
            {
                Interlocked.Increment(ref Hits[i]);
            }
        }
    }

    private struct NestedWork : IParallelWork
    {
        public IntraOpThreadPool Pool;
        public int[] Hits;

        public readonly void Run(int start, int end)
        {
            for (int i = start; i < end; i++)
            {
                var inner = new HitWork { Hits = new int[7] };
                Pool.ParallelFor(7, ref inner);
                Interlocked.Add(ref Hits[i], inner.Hits.Sum());
            }
        }
    }

    private struct ThrowingWork : IParallelWork
    {
        public readonly void Run(int start, int end)
        {
            if (start <= 13 && 13 < end)
            {
                throw new InvalidOperationException("boom");
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    public void EveryIndexRunsExactlyOnce(int threads)
    {
        using var pool = new IntraOpThreadPool(threads);
        foreach (int count in Enumerable.Range(0, 70).Append(1000).Append(4099))
        {
            foreach (int minChunk in new[] { 1, 3, 64 })
            {
                var work = new HitWork { Hits = new int[count] };
                pool.ParallelFor(count, ref work, minChunk);
                Assert.All(work.Hits, h => Assert.Equal(1, h));
            }
        }
    }

    [Fact]
    public async Task ConcurrentCallersAndNestedCallsAllComplete()
    {
        using var pool = new IntraOpThreadPool(3);
        var callers = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (int r = 0; r < 200; r++)
            {
                var work = new HitWork { Hits = new int[50] };
                pool.ParallelFor(50, ref work);
                Assert.All(work.Hits, h => Assert.Equal(1, h));
            }

            var nested = new NestedWork { Pool = pool, Hits = new int[9] };
            pool.ParallelFor(9, ref nested);
            Assert.All(nested.Hits, h => Assert.Equal(7, h));
        })).ToArray();
        await Task.WhenAll(callers).WaitAsync(TimeSpan.FromSeconds(60));
    }

    [Fact]
    public void ExceptionInWorkIsRethrownAndPoolStaysUsable()
    {
        using var pool = new IntraOpThreadPool(2);
        var bad = new ThrowingWork();
        Assert.Throws<InvalidOperationException>(() => pool.ParallelFor(100, ref bad));
        var work = new HitWork { Hits = new int[100] };
        pool.ParallelFor(100, ref work);
        Assert.All(work.Hits, h => Assert.Equal(1, h));
    }

    [Fact]
    public void ParallelForDoesNotAllocate()
    {
        using var pool = new IntraOpThreadPool(2);
        var work = new HitWork { Hits = new int[256] };
        for (int i = 0; i < 10; i++)
        {
            pool.ParallelFor(256, ref work);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            pool.ParallelFor(256, ref work);
        }

        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
        Assert.All(work.Hits, h => Assert.Equal(110, h));
    }

    [Fact]
    public void DisposeStopsWorkersAndLaterCallsRunInline()
    {
        var pool = new IntraOpThreadPool(4);
        var work = new HitWork { Hits = new int[10] };
        pool.ParallelFor(10, ref work);
        pool.Dispose();
        Assert.False(pool.AnyWorkerAlive);
        pool.ParallelFor(10, ref work);
        Assert.All(work.Hits, h => Assert.Equal(2, h));
    }
}
