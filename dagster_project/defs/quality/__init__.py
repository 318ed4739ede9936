"""Data quality: asset checks that run the Great Expectations suites in `expectations/`."""
