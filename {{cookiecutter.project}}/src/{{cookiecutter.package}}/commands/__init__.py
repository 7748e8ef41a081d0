"""What a person or CI runs besides the pipeline (the Makefile names each): `python -m <package>.commands.<name>`."""
