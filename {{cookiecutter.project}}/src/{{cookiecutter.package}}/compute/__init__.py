"""Where the stages run, by `compute.engine`: pandas reads each stage's data whole into one process
(memory.py refuses data that would not fit); dask goes partition by partition over a cluster
(cluster.py), with the dask side of a stage in the module named after it."""
