"""Build-time parts: configuration, git access, the Web API client and release artifacts.
Imports ``releasetag.protocol`` only, never the runtime SDK."""
