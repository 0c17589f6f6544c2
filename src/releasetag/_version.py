"""The package version (read by setup.cfg and reported as sdk.version)."""

__version__ = "0.1.0"
SDK_NAME = "releasetag.python"
