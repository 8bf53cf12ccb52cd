"""Live exam delivery (机考): candidate sign-in, sittings, the server clock, autosave and submission."""
