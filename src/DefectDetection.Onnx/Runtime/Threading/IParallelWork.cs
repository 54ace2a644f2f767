namespace DefectDetection.Onnx.Runtime.Threading;

/// <summary>
/// A unit of parallel work, implemented by a struct so that <see cref="IIntraOpThreadPool.ParallelFor{TWork}"/> needs no
/// delegate or closure allocation. <see cref="Run"/> is called concurrently from several threads with disjoint
/// ranges; it must only read the struct's fields (write results through the pointers/arrays it holds).
/// </summary>
internal interface IParallelWork
{
    /// <summary>Processes the items <paramref name="start"/> (inclusive) to <paramref name="end"/> (exclusive).</summary>
    void Run(int start, int end);
}

/// <summary>An intra-operator thread pool: runs a loop over <c>count</c> items on several threads.</summary>
internal interface IIntraOpThreadPool
{
    /// <summary>The number of threads (including the caller) that work on one <see cref="ParallelFor{TWork}"/> call.</summary>
    int DegreeOfParallelism { get; }

    /// <summary>
    /// Calls <see cref="IParallelWork.Run"/> of <paramref name="work"/> for disjoint ranges covering 0..<paramref name="count"/>
    /// and returns when all are done. Ranges are handed out in chunks of at least <paramref name="minChunk"/> items.
    /// Exceptions thrown by the work are rethrown on the caller (the first one wins).
    /// </summary>
    void ParallelFor<TWork>(int count, ref TWork work, int minChunk = 1)
        where TWork : struct, IParallelWork;
}
