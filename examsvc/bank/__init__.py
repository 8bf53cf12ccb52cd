"""Question banks: items, versions, review workflow, import and export."""
