"""releasetag: every error your Python service reports carries its release and environment."""

from ._version import __version__
from .release import detect_environment, detect_release

__all__ = ["__version__", "detect_environment", "detect_release"]
