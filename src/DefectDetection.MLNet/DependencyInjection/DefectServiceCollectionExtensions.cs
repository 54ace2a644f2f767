using DefectDetection.MLNet;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers <see cref="DefectPredictionEnginePool{TData, TPrediction}"/>, as <c>AddPredictionEnginePool</c> does in <c>Microsoft.Extensions.ML</c>.</summary>
public static class DefectServiceCollectionExtensions
{
    /// <summary>
    /// Adds a singleton <see cref="DefectPredictionEnginePool{TData, TPrediction}"/>; name its model files with
    /// <see cref="DefectPredictionEnginePoolBuilder{TData, TPrediction}.FromFile(string, string, bool)"/>.
    /// The models are loaded when the pool is first resolved.
    /// </summary>
    /// <typeparam name="TData">The input class.</typeparam>
    /// <typeparam name="TPrediction">The output class.</typeparam>
    /// <param name="services">The services.</param>
    public static DefectPredictionEnginePoolBuilder<TData, TPrediction> AddDefectPredictionEnginePool<TData, TPrediction>(this IServiceCollection services)
        where TData : class
        where TPrediction : class, new()
    {
        ArgumentNullException.ThrowIfNull(services);
        DefectModelSources<TData, TPrediction>? sources = services
            .Select(d => d.ServiceType == typeof(DefectModelSources<TData, TPrediction>) ? d.ImplementationInstance as DefectModelSources<TData, TPrediction> : null)
            .LastOrDefault(s => s is not null);
        if (sources is null)
        {
            sources = new DefectModelSources<TData, TPrediction>();
            services.AddSingleton(sources);
        }

        services.TryAddSingleton(provider => new DefectPredictionEnginePool<TData, TPrediction>(
            [.. sources.Items], provider.GetService<ILoggerFactory>()?.CreateLogger<DefectPredictionEnginePool<TData, TPrediction>>()));
        return new DefectPredictionEnginePoolBuilder<TData, TPrediction>(services, sources);
    }
}

/// <summary>Names the model files of a <see cref="DefectPredictionEnginePool{TData, TPrediction}"/>.</summary>
/// <typeparam name="TData">The input class.</typeparam>
/// <typeparam name="TPrediction">The output class.</typeparam>
public sealed class DefectPredictionEnginePoolBuilder<TData, TPrediction>
    where TData : class
    where TPrediction : class, new()
{
    private readonly DefectModelSources<TData, TPrediction> _sources;

    internal DefectPredictionEnginePoolBuilder(IServiceCollection services, DefectModelSources<TData, TPrediction> sources)
    {
        Services = services;
        _sources = sources;
    }

    /// <summary>The services.</summary>
    public IServiceCollection Services { get; }

    /// <summary>Serves the model of a file without a name (<c>pool.Predict(example)</c>).</summary>
    /// <param name="filePath">The model file.</param>
    /// <param name="watchForChanges">Reload the model when the file changes. Default true.</param>
    public DefectPredictionEnginePoolBuilder<TData, TPrediction> FromFile(string filePath, bool watchForChanges = true) =>
        FromFile(DefectModelSource.DefaultName, filePath, watchForChanges);

    /// <summary>Serves the model of a file under a name (<c>pool.Predict(name, example)</c>).</summary>
    /// <param name="modelName">The model's name.</param>
    /// <param name="filePath">The model file.</param>
    /// <param name="watchForChanges">Reload the model when the file changes. Default true.</param>
    /// <exception cref="ArgumentException">The name is taken.</exception>
    public DefectPredictionEnginePoolBuilder<TData, TPrediction> FromFile(string modelName, string filePath, bool watchForChanges = true)
    {
        ArgumentNullException.ThrowIfNull(modelName);
        ArgumentException.ThrowIfNullOrEmpty(filePath);
        if (_sources.Items.Any(s => s.Name == modelName))
        {
            throw new ArgumentException($"A model named '{modelName}' is registered already.", nameof(modelName));
        }

        _sources.Items.Add(new DefectModelSource(modelName, filePath, watchForChanges));
        return this;
    }
}

/// <summary>The files registered for one pool type.</summary>
internal sealed class DefectModelSources<TData, TPrediction>
{
    public List<DefectModelSource> Items { get; } = [];
}
