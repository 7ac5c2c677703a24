"""SQLite storage through sqlite-utils: schema and migrations, writes, and queries."""
