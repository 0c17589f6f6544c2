"""Schema step 3: event pages list an event's attachments through an index on their event."""

V3 = """
CREATE INDEX IF NOT EXISTS attachments_event ON attachments(event_id, id);
"""
