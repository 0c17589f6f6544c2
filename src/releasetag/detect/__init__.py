"""What the process's surroundings say: the release and environment it runs as (``release``:
arguments, variables, OpenTelemetry, the stamped release file, CI variables, git HEAD via
``git``), and boolean switches read from variables (``env``). One source of truth for the
runtime SDK and the CLI; it imports only ``protocol/``."""
