"""The pipeline's stages, the only modules dvc.yaml runs: `python -m <package>.stages.<name>`."""
