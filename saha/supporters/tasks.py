"""Background work of the supporters app: imports and retention."""
