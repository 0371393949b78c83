"""Job entry points: thin ``main`` functions over the pure transforms."""
