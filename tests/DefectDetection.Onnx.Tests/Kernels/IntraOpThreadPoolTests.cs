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

    /// <summary>Chunks run on another thread than the caller sleep (a worker preempted with a chunk in hand).</summary>
    private struct StallingWork : IParallelWork
    {
        public int Caller;
        public int[] Hits;
        public int[] OtherThreadChunks;

        public readonly void Run(int start, int end)
        {
            if (Environment.CurrentManagedThreadId != Caller)
            {
                Interlocked.Increment(ref OtherThreadChunks[0]);
                Thread.Sleep(30);
            }
            else
            {
                // The caller's own chunks take a little while, so that the worker gets to claim one.
                var sw = System.Diagnostics.Stopwatch.StartNew();
                while (sw.Elapsed.TotalMicroseconds < 100)
                {
                    Thread.SpinWait(10);
                }
            }

            for (int i = start; i < end; i++)
            {
                Interlocked.Increment(ref Hits[i]);
            }
        }
    }

    [Fact]
    public void StalledWorkerSendsLaterCallsInlineForAWhile()
    {
        using var pool = new IntraOpThreadPool(2, spinMicroseconds: 1_000_000);
        int stalledCalls = 0;
        long before = 0;
        for (int attempt = 0; attempt < 50 && pool.Stalls == 0; attempt++)
        {
            var work = new StallingWork { Caller = Environment.CurrentManagedThreadId, Hits = new int[64], OtherThreadChunks = new int[1] };
            before = System.Diagnostics.Stopwatch.GetTimestamp();
            pool.ParallelFor(64, ref work);
            Assert.All(work.Hits, h => Assert.Equal(1, h));
            stalledCalls += work.OtherThreadChunks[0] > 0 ? 1 : 0;
        }

        Assert.True(stalledCalls > 0, "the worker never took a chunk");
        Assert.Equal(1, pool.Stalls);

        // The stall (a 30 ms wait for the worker) starts a back-off of at least the minimum length.
        long minimum = (long)(IntraOpThreadPool.MinBackOffMilliseconds * System.Diagnostics.Stopwatch.Frequency / 1000);
        Assert.True(pool.BackOffUntil >= before + minimum);

        // A call made during the back-off runs every chunk on the caller (none sleeps), every index still once.
        for (int attempt = 0; attempt < 20; attempt++)
        {
            var inline = new StallingWork { Caller = Environment.CurrentManagedThreadId, Hits = new int[64], OtherThreadChunks = new int[1] };
            bool inBackOff = System.Diagnostics.Stopwatch.GetTimestamp() < pool.BackOffUntil;
            pool.ParallelFor(64, ref inline);
            Assert.All(inline.Hits, h => Assert.Equal(1, h));
            if (inBackOff)
            {
                Assert.Equal(0, inline.OtherThreadChunks[0]);
                Assert.Equal(1, pool.Stalls);
                return;
            }
        }

        Assert.Fail("never called during the back-off");
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
