"""Pure DataFrame -> DataFrame transforms. No I/O, no actions: the jobs read, call these, and write."""
