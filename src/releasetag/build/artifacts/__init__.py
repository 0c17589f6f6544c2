"""Release artifacts: sourcemaps, artifact bundles, native debug files and the chunk upload.

Nothing here is imported by the runtime SDK; parsers (pyelftools, pefile) are imported lazily.
"""
