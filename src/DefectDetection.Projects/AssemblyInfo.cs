// DefectDetection.Projects: inspection projects (dataset, model versions, trials, verifications) in a folder with a
// SQLite catalog, built on DefectDetection.Vision.
[assembly: System.CLSCompliant(false)]
