"""Search engines behind NewsIndex. Each engine is one module; only it imports its library."""
