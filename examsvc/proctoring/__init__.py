"""Live invigilation: the room board, invigilator actions with reasons, presence, the room record."""
