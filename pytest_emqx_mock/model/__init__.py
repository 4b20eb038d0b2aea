"""The fake cluster's state as plain Python objects (no HTTP here)."""
