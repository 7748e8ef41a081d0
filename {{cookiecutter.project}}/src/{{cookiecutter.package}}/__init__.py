"""The pipeline's code: stages/ (what dvc.yaml runs), commands/ (what people and CI run), and the
libraries both use: config (params.yaml), data, model, monitoring and tracking."""
