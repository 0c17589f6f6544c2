"""What every part shares: DSN, envelopes, release names and detection, time formats, the
error tree, small value records and the library's loggers. Imports nothing else of releasetag."""
