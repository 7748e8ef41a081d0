"""`make simulate`: the MLOps loop, run end to end in a throwaway copy of the project."""
