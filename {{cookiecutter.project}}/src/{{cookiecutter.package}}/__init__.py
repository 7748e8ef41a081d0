"""The pipeline's stages, each a module runnable as `python -m <package>.<stage>`."""
