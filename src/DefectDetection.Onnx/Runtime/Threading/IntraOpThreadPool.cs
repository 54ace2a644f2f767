using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace DefectDetection.Onnx.Runtime.Threading;

/// <summary>
/// A fixed pool of <c>threads - 1</c> dedicated worker threads plus the calling thread. A
/// <see cref="ParallelFor{TWork}"/> publishes the work, the caller takes part, idle workers spin briefly and
/// then block. Chunks are claimed with one compare-and-swap on a (generation, next chunk) word, so a worker
/// that wakes late can never run a chunk of a finished call. Calls are serialised per pool; a call made while
/// the pool is busy (another thread's call, or a nested call from inside work) runs inline on its caller,
/// so one pool can safely be shared by several sessions and threads. With one thread everything runs inline.
/// No allocation per call.
/// <para>
/// Oversubscribed machines: a worker that the OS preempts while it holds a chunk makes the caller wait for a whole
/// scheduling period (milliseconds), far longer than the chunk itself. When the caller has to wait much longer than
/// a chunk takes (a stall), the pool runs the following calls inline for a back-off period (doubling on each
/// stall up to <see cref="MaxBackOffMilliseconds"/>, shrinking by 1/16 after each clean parallel call), so a loaded machine
/// degrades to the one-thread speed instead of far below it. On an idle machine stalls do not happen.
/// </para>
/// </summary>
internal sealed unsafe class IntraOpThreadPool : IIntraOpThreadPool, IDisposable
{
    private readonly Thread[] _workers;
    private readonly object _gate = new();
    private readonly long _spinTicks;

    // The current call. Written by the caller before publishing _state; stable while chunks remain.
    private delegate*<void*, int, int, void> _invoke;
    private void* _work;
    private int _count;
    private int _chunkSize;
    private int _chunks;
    private int _completed;
    private ExceptionDispatchInfo? _error;

    // Bits 32..63: generation; bits 16..31: the call's chunk count; bits 0..15: the next chunk to claim.
    private long _state;
    private int _busy;
    private int _sleeping;
    private volatile bool _disposed;

    // Stall back-off (Stopwatch ticks): calls before _soloUntil run inline; _backOff is the next back-off length.
    private long _soloUntil;
    private long _backOff;
    private long _stalls;

    /// <summary>Creates a pool for <paramref name="threads"/> threads in all (the caller counts as one).</summary>
    /// <param name="threads">Degree of parallelism; values below 1 mean 1. Values above the processor count are allowed.</param>
    /// <param name="spinMicroseconds">How long an idle worker polls for work before blocking, in microseconds of
    /// wall time (not in <see cref="Thread.SpinWait"/> rounds, whose length the runtime calibrates once per process and
    /// which varied several-fold between processes here, sending workers to sleep between kernels in some runs).</param>
    public IntraOpThreadPool(int threads, int spinMicroseconds = 4000)
    {
        DegreeOfParallelism = Math.Max(1, threads);
        _spinTicks = (long)(Math.Max(0, spinMicroseconds) * (double)Stopwatch.Frequency / 1_000_000);
        _workers = new Thread[DegreeOfParallelism - 1];
        for (int i = 0; i < _workers.Length; i++)
        {
            _workers[i] = new Thread(WorkerLoop) { IsBackground = true, Name = $"onnx-intraop-{i + 1}" };
            _workers[i].Start();
        }
    }

    /// <summary>Back-off after the first stall, in milliseconds.</summary>
    internal const double MinBackOffMilliseconds = 10;

    /// <summary>Longest back-off, in milliseconds.</summary>
    internal const double MaxBackOffMilliseconds = 200;

    /// <summary>A wait shorter than this (plus two of the caller's chunk times) is never a stall, in microseconds.</summary>
    internal const double StallSlackMicroseconds = 100;

    private static readonly long MinBackOffTicks = (long)(MinBackOffMilliseconds * Stopwatch.Frequency / 1000);
    private static readonly long MaxBackOffTicks = (long)(MaxBackOffMilliseconds * Stopwatch.Frequency / 1000);
    private static readonly long StallSlackTicks = (long)(StallSlackMicroseconds * Stopwatch.Frequency / 1_000_000);

    /// <inheritdoc />
    public int DegreeOfParallelism { get; }

    /// <summary>How many calls so far waited for a preempted worker (diagnostics and tests).</summary>
    internal long Stalls => Volatile.Read(ref _stalls);

    /// <summary>The <see cref="Stopwatch"/> timestamp until which calls run inline (after a stall).</summary>
    internal long BackOffUntil => Volatile.Read(ref _soloUntil);

    /// <summary>True while any worker thread is still running (false after <see cref="Dispose"/>).</summary>
    internal bool AnyWorkerAlive => Array.Exists(_workers, t => t.IsAlive);

    /// <summary>Runs <paramref name="work"/> over 0..<paramref name="count"/> on <paramref name="pool"/>, or inline when it is null.</summary>
    public static void For<TWork>(IntraOpThreadPool? pool, int count, ref TWork work, int minChunk = 1)
        where TWork : struct, IParallelWork
    {
        if (pool is null)
        {
            if (count > 0)
            {
                work.Run(0, count);
            }
        }
        else
        {
            pool.ParallelFor(count, ref work, minChunk);
        }
    }

    /// <inheritdoc />
    public void ParallelFor<TWork>(int count, ref TWork work, int minChunk = 1)
        where TWork : struct, IParallelWork
    {
        if (count <= 0)
        {
            return;
        }

        minChunk = Math.Max(1, minChunk);
        if (_workers.Length == 0 || count <= minChunk || _disposed || Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            work.Run(0, count);
            return;
        }

        long begin = Stopwatch.GetTimestamp();
        if (begin < _soloUntil)
        {
            try
            {
                work.Run(0, count);
            }
            finally
            {
                Volatile.Write(ref _busy, 0);
            }

            return;
        }

        try
        {
            // A private copy on the caller's stack: its address stays fixed while the workers use it.
            TWork copy = work;
            int threads = DegreeOfParallelism;
            int chunks = Math.Min((count + minChunk - 1) / minChunk, Math.Min(threads * 4, 0x7FFF));
            chunks = Math.Max(1, Math.Min(chunks, count));
            _invoke = &Invoke<TWork>;
            _work = Unsafe.AsPointer(ref copy);
            _count = count;
            _chunkSize = (count + chunks - 1) / chunks;
            _chunks = (count + _chunkSize - 1) / _chunkSize;
            _completed = 0;
            _error = null;
            long generation = (Volatile.Read(ref _state) >> 32) + 1;
            Interlocked.Exchange(ref _state, (generation << 32) | ((long)_chunks << 16));
            // A worker that has to be woken arrives late (the OS's wake-up latency, tens to hundreds of microseconds
            // on a VM) without having lost its core: such a call's wait says nothing about stalls. Counting it made
            // a self-sustaining back-off (workers fall asleep during the inline period, so the next parallel call
            // waits for a wake-up, which again read as a stall) that ran a quiet 2-core machine slower than one thread.
            bool woke = Volatile.Read(ref _sleeping) > 0;
            if (woke)
            {
                lock (_gate)
                {
                    Monitor.PulseAll(_gate);
                }
            }

            int own = RunChunks();
            if (Volatile.Read(ref _completed) < _chunks)
            {
                long ownEnd = Stopwatch.GetTimestamp();
                var spin = default(SpinWait);
                while (Volatile.Read(ref _completed) < _chunks)
                {
                    spin.SpinOnce(sleep1Threshold: -1);
                }

                long end = Stopwatch.GetTimestamp();
                // The worker's last chunk should end within about one chunk of the caller's (a chunk takes about
                // the caller's time over its chunk count); much longer means the worker lost its core.
                if (!woke && end - ownEnd > (2 * (ownEnd - begin) / Math.Max(1, own)) + StallSlackTicks)
                {
                    // A worker was preempted with a chunk in hand: run inline for a while.
                    _stalls++;
                    _soloUntil = end + Math.Max(_backOff, MinBackOffTicks);
                    _backOff = Math.Min(Math.Max(_backOff, MinBackOffTicks) * 2, MaxBackOffTicks);
                }
                else
                {
                    _backOff -= _backOff >> 4;
                }
            }
            else
            {
                _backOff -= _backOff >> 4;
            }

            _work = null; // "copy" is address-exposed, so the JIT keeps it (and the objects it references) alive until here.
            _error?.Throw();
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    /// <summary>Stops the worker threads (they finish their current chunk first).</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        lock (_gate)
        {
            Monitor.PulseAll(_gate);
        }

        foreach (Thread worker in _workers)
        {
            worker.Join();
        }
    }

    // Each chunk runs on a private copy of the work: the original lives on the caller's stack, in cache lines the
    // caller keeps writing while it waits, and kernels re-read their fields inside loops (stores through their
    // output pointers may alias them), so reading it in place from another core would bounce those lines.
    private static void Invoke<TWork>(void* work, int start, int end)
        where TWork : struct, IParallelWork
    {
        TWork local = Unsafe.AsRef<TWork>(work);
        local.Run(start, end);
    }

    private bool HasWork()
    {
        long state = Volatile.Read(ref _state);
        return (int)(state & 0xFFFF) < (int)((state >> 16) & 0xFFFF);
    }

    // Claims and runs chunks until none remain. Returns when the current call has no unclaimed chunk, with the
    // number of chunks this thread ran.
    private int RunChunks()
    {
        int ran = 0;
        while (true)
        {
            long state = Volatile.Read(ref _state);
            int index = (int)(state & 0xFFFF);
            int chunks = (int)((state >> 16) & 0xFFFF);
            if (index >= chunks)
            {
                return ran;
            }

            // The fields below may belong to a newer call; the compare-and-swap only succeeds if they do not
            // (a new call is only published after every chunk of this one completed, with a new generation).
            delegate*<void*, int, int, void> invoke = _invoke;
            void* work = _work;
            int chunkSize = _chunkSize;
            int count = _count;
            if (Interlocked.CompareExchange(ref _state, state + 1, state) != state)
            {
                continue;
            }

            int start = index * chunkSize;
            int end = Math.Min(count, start + chunkSize);
            try
            {
                invoke(work, start, end);
            }
            catch (Exception ex)
            {
                Interlocked.CompareExchange(ref _error, ExceptionDispatchInfo.Capture(ex), null);
            }

            ran++;
            Interlocked.Increment(ref _completed);
        }
    }

    private void WorkerLoop()
    {
        while (!_disposed)
        {
            long spinUntil = Stopwatch.GetTimestamp() + _spinTicks;
            int spins = 0;
            while (!HasWork() && !_disposed)
            {
                Thread.SpinWait(32);
                spins++;
                if ((spins & 63) == 0)
                {
                    Thread.Yield();
                }

                if ((spins & 7) == 0 && Stopwatch.GetTimestamp() >= spinUntil)
                {
                    break;
                }
            }

            if (!HasWork() && !_disposed)
            {
                lock (_gate)
                {
                    Interlocked.Increment(ref _sleeping);
                    while (!HasWork() && !_disposed)
                    {
                        Monitor.Wait(_gate);
                    }

                    Interlocked.Decrement(ref _sleeping);
                }
            }

            if (_disposed)
            {
                return;
            }

            _ = RunChunks();
        }
    }
}
