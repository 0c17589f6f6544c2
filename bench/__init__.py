"""Side-by-side benchmarks of releasetag against sentry-sdk and sentry-cli.

Run ``python -m bench`` from the repository root; the interface for adding scenarios is
described in bench/README.md.
"""
