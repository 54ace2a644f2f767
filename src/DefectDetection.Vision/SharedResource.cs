using DefectDetection.Models;
using DefectDetection.Vision.ImageClassification;
using DefectDetection.Vision.PatchCore;
using DefectDetection.Vision.Variation;
using DefectDetection.Vision.PinResidual;
using DefectDetection.Vision.TemplateDifference;
namespace DefectDetection.Vision;

/// <summary>
/// A disposable shared by a model and its re-thresholded copies (<see cref="IDefectModel.WithThreshold"/>): disposed
/// when the last holder releases it.
/// </summary>
/// <typeparam name="T">The resource (a backbone session, a feature extractor).</typeparam>
internal sealed class SharedResource<T>(T value)
    where T : class
{
    private int _holders = 1;

    public T Value { get; } = value;

    /// <summary>One more holder; each must call <see cref="Release"/> once.</summary>
    public SharedResource<T> Acquire()
    {
        if (Interlocked.Increment(ref _holders) <= 1)
        {
            throw new ObjectDisposedException(typeof(T).Name, "The model was disposed before it was re-thresholded.");
        }

        return this;
    }

    /// <summary>Releases one holder; the last one disposes the resource.</summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _holders) == 0)
        {
            (Value as IDisposable)?.Dispose();
        }
    }
}
