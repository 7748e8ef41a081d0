"""The prediction API (`make serve`): the champion model behind HTTP, its inputs checked by the data contract."""
