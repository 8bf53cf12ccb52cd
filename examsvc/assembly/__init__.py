"""Paper assembly (组卷): blueprints, the engine, feasibility, frozen papers."""
