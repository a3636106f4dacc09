"""Storage: connections, migrations, read queries (``queries``) and writes (``mutations``).

Only the writer actor imports ``mutations`` and opens a read-write connection.
"""
