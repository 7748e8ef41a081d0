"""MLflow: where runs are recorded, the lineage tags of a run, and the registry with its champion."""
