// DefectDetection.Vision: backbones, transfer-learning classification, anomaly detection, ROI detectors and
// synthetic data, built on DefectDetection.Onnx and DefectDetection.Imaging.
[assembly: System.CLSCompliant(false)]
