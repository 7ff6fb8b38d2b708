"""The warehouse on disk: build files, publication, read-only access."""
