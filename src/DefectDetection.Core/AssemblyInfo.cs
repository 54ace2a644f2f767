// DefectDetection.Core: abstractions (IDefectPipeline, IRoiDetector, ICropClassifier), pipeline
// orchestration, results, metrics, datasets and model files.
[assembly: System.CLSCompliant(false)]
