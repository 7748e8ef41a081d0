"""Data: reading and writing tables, which columns are features, and the data contract with its checks."""
