"""The nightly check that the incrementally kept state equals a full rebuild."""
