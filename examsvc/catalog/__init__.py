"""Organizations, certificates and levels, skill standards and exam schemes."""
