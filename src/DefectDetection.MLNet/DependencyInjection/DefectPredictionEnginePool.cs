using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.ML;

namespace DefectDetection.MLNet;

/// <summary>
/// What <c>Microsoft.Extensions.ML</c>'s <c>PredictionEnginePool</c> gives ASP.NET Core apps, for models that hold the
/// library's transforms (and plain ML.NET models): named models loaded with
/// <see cref="DefectModelOperations.LoadWithDefectDetection(ModelOperationsCatalog, string, out Microsoft.ML.DataViewSchema?)"/>,
/// each with a pool of <see cref="PredictionEngine{TSrc, TDst}"/> objects (one engine serves one thread at a time; the
/// pool lets any number of requests predict at once), reloaded when the file changes. A reload swaps the model
/// atomically: requests running keep the model they started with, which is disposed after the last of them; a file
/// that fails to load leaves the previous model in place (logged, and reported by <see cref="ModelReloaded"/>).
/// Register it with <c>services.AddDefectPredictionEnginePool&lt;TData, TPrediction&gt;().FromFile(...)</c>.
/// </summary>
/// <typeparam name="TData">The input class (its members name the model's input columns).</typeparam>
/// <typeparam name="TPrediction">The output class (its members name the output columns).</typeparam>
public sealed class DefectPredictionEnginePool<TData, TPrediction> : IDisposable
    where TData : class
    where TPrediction : class, new()
{
    private readonly MLContext _ml = new();
    private readonly Dictionary<string, ModelSlot> _slots = new(StringComparer.Ordinal);
    private readonly ILogger? _logger;

    internal DefectPredictionEnginePool(IReadOnlyList<DefectModelSource> sources, ILogger? logger)
    {
        _logger = logger;
        try
        {
            foreach (DefectModelSource source in sources)
            {
                if (_slots.ContainsKey(source.Name))
                {
                    throw new ArgumentException($"Two models are named '{source.Name}'.", nameof(sources));
                }

                _slots[source.Name] = new ModelSlot(this, source);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Raised after each reload attempt of a watched file (on a thread-pool thread).</summary>
    public event EventHandler<ModelReloadedEventArgs>? ModelReloaded;

    /// <summary>The names of the models served.</summary>
    public IReadOnlyCollection<string> ModelNames => _slots.Keys;

    /// <summary>Predicts with the model registered without a name (<see cref="DefectModelSource.DefaultName"/>).</summary>
    /// <param name="example">The input.</param>
    public TPrediction Predict(TData example) => Predict(DefectModelSource.DefaultName, example);

    /// <summary>Predicts with a named model; thread-safe.</summary>
    /// <param name="modelName">The model's name.</param>
    /// <param name="example">The input.</param>
    /// <exception cref="ArgumentException">No model has that name.</exception>
    public TPrediction Predict(string modelName, TData example)
    {
        ArgumentNullException.ThrowIfNull(example);
        LoadedModel model = Slot(modelName).Acquire();
        try
        {
            PredictionEngine<TData, TPrediction> engine = model.Rent();
            try
            {
                return engine.Predict(example);
            }
            finally
            {
                model.Return(engine);
            }
        }
        finally
        {
            model.Release();
        }
    }

    /// <summary>The current model of a name (it may be replaced by a reload and disposed after it: do not keep it).</summary>
    /// <param name="modelName">The model's name; default: the unnamed model.</param>
    public ITransformer GetModel(string modelName = DefectModelSource.DefaultName) => Slot(modelName).Current.Model;

    /// <summary>How many times the named model was loaded (1 before any reload).</summary>
    /// <param name="modelName">The model's name; default: the unnamed model.</param>
    public int GetModelVersion(string modelName = DefectModelSource.DefaultName) => Slot(modelName).Current.Version;

    /// <summary>Stops watching and disposes the models once no prediction uses them.</summary>
    public void Dispose()
    {
        foreach (ModelSlot slot in _slots.Values)
        {
            slot.Dispose();
        }
    }

    private ModelSlot Slot(string modelName)
    {
        ArgumentNullException.ThrowIfNull(modelName);
        return _slots.TryGetValue(modelName, out ModelSlot? slot) ? slot
            : throw new ArgumentException($"No model is named '{modelName}' (models: {string.Join(", ", _slots.Keys.Select(k => k.Length == 0 ? "(unnamed)" : k))}).", nameof(modelName));
    }

    private LoadedModel Load(DefectModelSource source, int version)
    {
        ITransformer model = _ml.Model.LoadWithDefectDetection(source.FilePath, out _);
        return new LoadedModel(_ml, model, version);
    }

    /// <summary>One named model: the current version, swapped on reload.</summary>
    private sealed class ModelSlot : IDisposable
    {
        private readonly DefectPredictionEnginePool<TData, TPrediction> _pool;
        private readonly DefectModelSource _source;
        private readonly FileSystemWatcher? _watcher;
        private readonly Timer? _debounce;
        private readonly Lock _reloadLock = new();
        private LoadedModel _current;
        private bool _disposed;

        public ModelSlot(DefectPredictionEnginePool<TData, TPrediction> pool, DefectModelSource source)
        {
            _pool = pool;
            _source = source;
            _current = pool.Load(source, 1);
            if (source.WatchForChanges)
            {
                string full = Path.GetFullPath(source.FilePath);
                _debounce = new Timer(_ => Reload(), null, Timeout.Infinite, Timeout.Infinite);
                _watcher = new FileSystemWatcher(Path.GetDirectoryName(full)!, Path.GetFileName(full))
                {
                    NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.CreationTime,
                };
                _watcher.Changed += OnChange;
                _watcher.Created += OnChange;
                _watcher.Renamed += OnChange;
                _watcher.EnableRaisingEvents = true;
            }
        }

        public LoadedModel Current => Volatile.Read(ref _current);

        public LoadedModel Acquire()
        {
            while (true)
            {
                LoadedModel model = Volatile.Read(ref _current);
                if (model.TryAddRef())
                {
                    return model;
                }
            }
        }

        public void Dispose()
        {
            lock (_reloadLock)
            {
                if (_disposed)
                {
                    return;
                }

                _disposed = true;
                _watcher?.Dispose();
                _debounce?.Dispose();
                _current.Release();
            }
        }

        // Events come in bursts (a write is several changes): reload once the file has been quiet for a moment.
        private void OnChange(object sender, FileSystemEventArgs e) => _debounce?.Change(_source.ReloadDelay, Timeout.InfiniteTimeSpan);

        private void Reload()
        {
            Exception? error = null;
            int version;
            lock (_reloadLock)
            {
                if (_disposed)
                {
                    return;
                }

                version = _current.Version + 1;
                try
                {
                    LoadedModel next = _pool.Load(_source, version);
                    LoadedModel previous = Interlocked.Exchange(ref _current, next);
                    previous.Release();
                    _pool._logger?.LogInformation("Reloaded the model {ModelName} from {FilePath} (version {Version})", _source.Name, _source.FilePath, version);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    error = e;
                    version--;
                    _pool._logger?.LogError(e, "Could not reload the model {ModelName} from {FilePath}; the previous model stays in use", _source.Name, _source.FilePath);
                }
            }

            try
            {
                _pool.ModelReloaded?.Invoke(_pool, new ModelReloadedEventArgs(_source.Name, version, error));
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A failing handler must not take the process down from a timer thread.
                _pool._logger?.LogError(e, "A ModelReloaded handler failed for the model {ModelName}", _source.Name);
            }
        }
    }

    /// <summary>One loaded version of a model with its engines; disposed when the slot and every prediction have let go of it.</summary>
    private sealed class LoadedModel(MLContext ml, ITransformer model, int version)
    {
        private readonly ConcurrentBag<PredictionEngine<TData, TPrediction>> _engines = [];
        private int _references = 1; // the slot's

        public ITransformer Model => model;

        public int Version => version;

        public bool TryAddRef()
        {
            int seen = Volatile.Read(ref _references);
            while (seen > 0)
            {
                int was = Interlocked.CompareExchange(ref _references, seen + 1, seen);
                if (was == seen)
                {
                    return true;
                }

                seen = was;
            }

            return false;
        }

        public void Release()
        {
            if (Interlocked.Decrement(ref _references) == 0)
            {
                while (_engines.TryTake(out PredictionEngine<TData, TPrediction>? engine))
                {
                    engine.Dispose();
                }

                (model as IDisposable)?.Dispose();
            }
        }

        public PredictionEngine<TData, TPrediction> Rent() =>
            _engines.TryTake(out PredictionEngine<TData, TPrediction>? engine) ? engine : ml.Model.CreatePredictionEngine<TData, TPrediction>(model);

        public void Return(PredictionEngine<TData, TPrediction> engine) => _engines.Add(engine);
    }
}

/// <summary>What <see cref="DefectPredictionEnginePool{TData, TPrediction}.ModelReloaded"/> reports.</summary>
/// <param name="ModelName">The model's name.</param>
/// <param name="Version">The version now served (unchanged when the reload failed).</param>
/// <param name="Error">Why the file could not be loaded, or null when the new model is in use.</param>
public sealed record ModelReloadedEventArgs(string ModelName, int Version, Exception? Error);

/// <summary>A model file the pool serves under a name.</summary>
/// <param name="Name">The model's name (<see cref="DefaultName"/> for the unnamed one).</param>
/// <param name="FilePath">The file (saved by <c>SaveWithDefectDetection</c> or <c>mlContext.Model.Save</c>).</param>
/// <param name="WatchForChanges">Reload when the file changes.</param>
public sealed record DefectModelSource(string Name, string FilePath, bool WatchForChanges)
{
    /// <summary>The name of the model registered without one.</summary>
    public const string DefaultName = "";

    /// <summary>How long the file must stay unchanged before it is reloaded. Default 250 ms.</summary>
    public TimeSpan ReloadDelay { get; init; } = TimeSpan.FromMilliseconds(250);
}
