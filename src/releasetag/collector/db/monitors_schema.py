"""Schema version 5: the tables of cron monitors (``db/monitors.py`` holds their SQL)."""

V5 = """CREATE TABLE IF NOT EXISTS monitors (
    id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL REFERENCES projects(id),
    slug TEXT NOT NULL, config TEXT, date_created TEXT NOT NULL, date_updated TEXT NOT NULL,
    next_expected TEXT, last_check_in TEXT, last_status TEXT, last_release TEXT,
    last_environment TEXT, failures INTEGER NOT NULL DEFAULT 0,
    successes INTEGER NOT NULL DEFAULT 0, group_id INTEGER,
    UNIQUE (project_id, slug));
CREATE TABLE IF NOT EXISTS check_ins (
    id INTEGER PRIMARY KEY, monitor_id INTEGER NOT NULL REFERENCES monitors(id) ON DELETE CASCADE,
    check_in_id TEXT NOT NULL, status TEXT NOT NULL, release TEXT, environment TEXT,
    duration REAL, trace_id TEXT, date_added TEXT NOT NULL, date_updated TEXT NOT NULL,
    expected TEXT, UNIQUE (monitor_id, check_in_id));
CREATE INDEX IF NOT EXISTS check_ins_release ON check_ins(release);
CREATE INDEX IF NOT EXISTS check_ins_open ON check_ins(status, monitor_id)
"""
